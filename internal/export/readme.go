package export

import (
	"fmt"
	"strings"

	"github.com/gwanje/gwanje/internal/seal"
)

// readme is the Korean page for the recipient: what the package is and how
// to check it with or without gwanje.
func readme(m *Manifest, k *Key) []byte {
	var b strings.Builder
	const tf = "2006-01-02 15:04:05 -07:00"
	fmt.Fprintf(&b, "영상정보 반출 증거 패키지 (%s)\r\n", m.ID)
	b.WriteString("==============================================\r\n\r\n")
	fmt.Fprintf(&b, "제공받는 자: %s\r\n", m.Recipient)
	fmt.Fprintf(&b, "목적: %s\r\n", m.Purpose)
	if m.LegalBasis != "" {
		fmt.Fprintf(&b, "근거: %s\r\n", m.LegalBasis)
	}
	if m.Letter != "" {
		fmt.Fprintf(&b, "공문 번호: %s\r\n", m.Letter)
	}
	var cams []string
	for _, c := range m.Cameras {
		cams = append(cams, c.ID)
	}
	fmt.Fprintf(&b, "카메라: %s\r\n", strings.Join(cams, ", "))
	fmt.Fprintf(&b, "기간: %s ~ %s\r\n", m.From.Format(tf), m.To.Format(tf))
	fmt.Fprintf(&b, "관리대장 일련번호: %d\r\n\r\n", m.LedgerSeq)
	if len(m.Missing) > 0 {
		b.WriteString("녹화되지 않은 구간(영상 없음):\r\n")
		for _, s := range m.Missing {
			fmt.Fprintf(&b, "  %s  %s ~ %s\r\n", s.Camera, s.From.Format(tf), s.To.Format(tf))
		}
		b.WriteString("\r\n")
	}
	b.WriteString(`이 패키지에 든 것
  clips/*.mp4     녹화된 영상을 다시 인코딩하지 않고 그대로 옮긴 MP4 파일
                  (녹화 시작 시각은 파일 정보의 creation_time과 date에 있습니다)
  manifest.json   영상 파일과 원본 세그먼트의 해시, 제공 내역을 담고 전자서명(Ed25519)한 목록
  public-key.txt  서명을 확인할 기관의 공개키
  SHA256SUMS      영상 파일의 SHA-256 해시 목록

확인 방법
1. 파일이 바뀌지 않았는지: 압축을 푼 폴더에서
       sha256sum -c SHA256SUMS
   를 실행하면 파일마다 "OK"가 나와야 합니다. (Windows: certutil -hashfile 파일 SHA256 의
   결과를 SHA256SUMS와 비교하십시오.)
2. 목록(manifest.json)과 서명이 진짜인지: gwanje 프로그램으로
       gwanje export verify -fingerprint 지문 패키지.zip
   을 실행하면 모든 해시와 서명을 확인하고, 맞지 않는 것을 하나하나 알려 줍니다.
   지문은 이 패키지가 아닌 다른 경로(공문, 전화 등)로 기관에서 받은 값을 쓰십시오.
   패키지에 든 공개키만으로는 패키지가 온전한지는 알 수 있지만 누가 만들었는지는 증명되지 않습니다.

`)
	fmt.Fprintf(&b, "이 패키지를 서명한 키: %s\r\n지문(SHA-256): %s\r\n", k.ID, seal.Fingerprint(k.Public()))
	return []byte(strings.ReplaceAll(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n", "\r\n"))
}
