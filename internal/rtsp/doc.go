// Package rtsp is gwanje's own RTSP/1.0 client for recording over TCP
// interleaved transport.
//
// It runs the handshake (DESCRIBE, SETUP, PLAY, with Basic or Digest
// authentication) on a connection it dials, and then gives the socket up:
// after Play the caller reads the connection itself, typically from a
// poller that serves many cameras from a few goroutines, and splits the
// bytes with a Demuxer into RTP packets, RTCP packets and RTSP messages.
// Keepalive, Respond and Close only write; no method of Conn reads the
// socket after Play.
//
// Messages, headers, SDP and authentication come from gortsplib's
// lower-level packages (pkg/base, pkg/headers, pkg/auth,
// pkg/description); RTP parsing from github.com/pion/rtp. The package
// imports nothing of gwanje's, so it can be tested and fuzzed alone.
//
// Not supported: UDP and multicast transport, RTSP 2.0, redirects, RTSPS
// and HTTP tunnelling. Those paths stay on gortsplib's Client.
package rtsp
