package mask

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"

	"github.com/gwanje/gwanje/internal/errs"
)

// FillJPEG returns the JPEG picture b with zones filled black, for a still
// frame shown to someone who must not see them. The zones are drawn as the
// masked video draws them (the same polygon fill, grown by one pixel);
// the picture is decoded, filled and encoded again at quality 90, in Go:
// no ffmpeg is needed.
func FillJPEG(b []byte, zones []Zone) ([]byte, error) {
	const op = "mask.FillJPEG"
	for i := range zones {
		if err := zones[i].validate(i); err != nil {
			return nil, err
		}
	}
	src, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, errs.E(op, errs.Corrupt, err)
	}
	r := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Rect, src, r.Min, draw.Src)
	W, H := r.Dx(), r.Dy()
	for _, z := range zones {
		bx := zoneBox(z.Points, W, H)
		m := zoneMask(z.Points, W, H, bx)
		for y := 0; y < bx.h && bx.y+y < H; y++ {
			for x := 0; x < bx.w && bx.x+x < W; x++ {
				if m.Pix[y*m.Stride+x] != 0 {
					i := dst.PixOffset(bx.x+x, bx.y+y)
					dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = 0, 0, 0, 255
				}
			}
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 90}); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return out.Bytes(), nil
}
