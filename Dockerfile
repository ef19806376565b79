# The tzurot binary, for docker-compose.yml (runs where a Docker engine is).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/tzurot ./cmd/tzurot

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/tzurot /usr/local/bin/tzurot
ENTRYPOINT ["/usr/local/bin/tzurot"]
