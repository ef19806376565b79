package openrouter

import (
	"bytes"
	"encoding/base64"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
)

// imageDataURL renders a small gradient whose colours derive from the
// prompt, so the same prompt always yields byte-identical PNGs and
// different prompts visibly differ in the demo.
func imageDataURL(prompt string) (string, error) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(prompt))
	seed := h.Sum64()
	const size = 32
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	r0, g0, b0 := uint8(seed), uint8(seed>>8), uint8(seed>>16)
	r1, g1, b1 := uint8(seed>>24), uint8(seed>>32), uint8(seed>>40)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			t := (x + y) * 255 / (2 * (size - 1))
			img.Set(x, y, color.NRGBA{
				R: mix(r0, r1, t), G: mix(g0, g1, t), B: mix(b0, b1, t), A: 255,
			})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func mix(a, b uint8, t int) uint8 {
	return uint8((int(a)*(255-t) + int(b)*t) / 255)
}
