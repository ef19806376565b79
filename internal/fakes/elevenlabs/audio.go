package elevenlabs

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// mp3FrameSize is the length of an unpadded MPEG-1 Layer III frame at
	// 128 kbps and 44.1 kHz: 144 * 128000 / 44100 rounded down.
	mp3FrameSize = 417
	// mp3FrameSamples is how many samples one Layer III frame holds.
	mp3FrameSamples = 1152
	mp3SampleRate   = 44100
	// maxFrames caps the fake audio at about 5 seconds, so long texts do
	// not make tests shuffle megabytes of silence.
	maxFrames = 200
)

// mp3Header is the frame header of every fake frame: sync, MPEG-1 Layer III
// without CRC, 128 kbps, 44.1 kHz, no padding, joint stereo, original.
var mp3Header = [4]byte{0xFF, 0xFB, 0x90, 0x64}

// frames is the fake's duration for a text: about 50 ms of audio per
// character, never empty, capped at maxFrames.
func frames(text string) int {
	return min(maxFrames, 1+utf8.RuneCountInString(text)/2)
}

// MP3 returns the fake's audio for a text: a valid MPEG-1 Layer III stream
// (frames with header 0xFF 0xFB 0x90 0x64 = 128 kbps 44.1 kHz, 417-byte
// frames of silence), with a number of frames growing with the text length
// (at least 1, at most 200), so tests can compare bytes exactly.
//
// A frame whose side information is all zero has no Huffman data, which
// every decoder renders as silence.
func MP3(text string) []byte {
	n := frames(text)
	out := make([]byte, n*mp3FrameSize)
	for i := range n {
		copy(out[i*mp3FrameSize:], mp3Header[:])
	}
	return out
}

// outputFormats is the output_format enum of the TTS endpoints.
var outputFormats = []string{
	"alaw_8000",
	"mp3_22050_32", "mp3_24000_48", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128", "mp3_44100_192",
	"opus_48000_32", "opus_48000_64", "opus_48000_96", "opus_48000_128", "opus_48000_192",
	"pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_32000", "pcm_44100", "pcm_48000",
	"ulaw_8000",
	"wav_8000", "wav_16000", "wav_22050", "wav_24000", "wav_32000", "wav_44100", "wav_48000",
}

const defaultOutputFormat = "mp3_44100_128"

func knownOutputFormat(f string) bool { return slices.Contains(outputFormats, f) }

// render produces the audio for text in a known output format. Every MP3
// format gets the same 128 kbps stream; the sample formats get silence of
// the same duration. Opus is not generated (ok is false): an Ogg container
// is more than a test double needs.
func render(format, text string) (audio []byte, contentType string, ok bool) {
	codec, rest, _ := strings.Cut(format, "_")
	rateText, _, _ := strings.Cut(rest, "_")
	rate, _ := strconv.Atoi(rateText)
	samples := frames(text) * mp3FrameSamples * rate / mp3SampleRate
	switch codec {
	case "mp3":
		return MP3(text), "audio/mpeg", true
	case "pcm":
		return make([]byte, 2*samples), "audio/pcm", true
	case "wav":
		return wav(rate, make([]byte, 2*samples)), "audio/wav", true
	case "ulaw":
		// 0xFF is zero amplitude in G.711 µ-law.
		return bytes.Repeat([]byte{0xFF}, samples), "audio/basic", true
	case "alaw":
		// 0xD5 is zero amplitude in G.711 A-law.
		return bytes.Repeat([]byte{0xD5}, samples), "audio/basic", true
	}
	return nil, "", false
}

// wav wraps 16-bit little-endian mono PCM in a RIFF/WAVE header.
func wav(rate int, pcm []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(36+len(pcm)))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, le, uint32(16)) // fmt chunk size
	_ = binary.Write(&b, le, uint16(1))  // PCM
	_ = binary.Write(&b, le, uint16(1))  // mono
	_ = binary.Write(&b, le, uint32(rate))
	_ = binary.Write(&b, le, uint32(rate*2)) // byte rate
	_ = binary.Write(&b, le, uint16(2))      // block align
	_ = binary.Write(&b, le, uint16(16))     // bits per sample
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(len(pcm)))
	b.Write(pcm)
	return b.Bytes()
}
