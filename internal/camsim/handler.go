package camsim

import (
	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
)

// handler answers RTSP requests for the simulated cameras. Cameras only
// play: ANNOUNCE and RECORD are refused by gortsplib, since the handler
// does not implement them.
type handler struct {
	s *Server
}

var (
	_ gortsplib.ServerHandlerOnDescribe     = (*handler)(nil)
	_ gortsplib.ServerHandlerOnSetup        = (*handler)(nil)
	_ gortsplib.ServerHandlerOnPlay         = (*handler)(nil)
	_ gortsplib.ServerHandlerOnSessionClose = (*handler)(nil)
)

// admit checks credentials and the camera's state. It returns the camera,
// or the response to send and the error that makes gortsplib close the
// connection after a wrong password.
func (h *handler) admit(conn *gortsplib.ServerConn, req *base.Request, path string) (*camera, *base.Response, error) {
	if h.s.cfg.User != "" && !conn.VerifyCredentials(req, h.s.cfg.User, h.s.cfg.Pass) {
		return nil, &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
	}
	c := h.s.cameraFor(path)
	if c == nil {
		return nil, &base.Response{StatusCode: base.StatusNotFound}, nil
	}
	c.mu.Lock()
	stopped := c.fault.Stop
	c.mu.Unlock()
	if stopped {
		return nil, &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	return c, nil, nil
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c, res, err := h.admit(ctx.Conn, ctx.Request, ctx.Path)
	if c == nil {
		return res, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c, res, err := h.admit(ctx.Conn, ctx.Request, ctx.Path)
	if c == nil {
		return res, nil, err
	}
	if prev, ok := ctx.Session.UserData().(*camera); ok && prev != c {
		return &base.Response{StatusCode: base.StatusBadRequest}, nil, nil
	}
	c.mu.Lock()
	if c.fault.Stop {
		// Stopped between admit and here: SetFault has already closed
		// the sessions it knew of.
		c.mu.Unlock()
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
	}
	if _, ok := c.sessions[ctx.Session]; !ok {
		c.sessions[ctx.Session] = struct{}{}
		c.readers.Add(1)
	}
	c.mu.Unlock()
	ctx.Session.SetUserData(c)
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	c, ok := ctx.Session.UserData().(*camera)
	if !ok {
		return &base.Response{StatusCode: base.StatusBadRequest}, nil
	}
	c.mu.Lock()
	stopped := c.fault.Stop
	c.mu.Unlock()
	if stopped {
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	h.s.log.Debug("camera playing", "camera", c.n, "remote", ctx.Conn.NetConn().RemoteAddr().String())
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose.
func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	c, ok := ctx.Session.UserData().(*camera)
	if !ok {
		return
	}
	c.mu.Lock()
	if _, ok := c.sessions[ctx.Session]; ok {
		delete(c.sessions, ctx.Session)
		c.readers.Add(-1)
	}
	c.mu.Unlock()
}
