package app

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/registry"
)

// TestRequestCalendarHolidays: a public holiday the registry names
// (organization.holidays) moves a request's due date as a weekend does,
// and a registry without holidays moves it only past weekends.
func TestRequestCalendarHolidays(t *testing.T) {
	b, err := os.ReadFile("../../testdata/registry/jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := registry.Parse("jeonbuk.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-12 (Thursday) is the tenth day of a request received on
	// Monday 2 March; as a holiday it moves the end to Friday's.
	withHoliday := strings.Replace(string(b), "  timezone: Asia/Seoul\n",
		"  timezone: Asia/Seoul\n  holidays: [2026-03-01, 2026-03-12]\n", 1)
	reg, err := registry.Parse("jeonbuk.yaml", []byte(withHoliday))
	if err != nil {
		t.Fatal(err)
	}
	seoul := reg.Location()
	recv := time.Date(2026, 3, 2, 10, 0, 0, 0, seoul)
	if got, want := requestCalendar(plain, seoul).Due(recv), time.Date(2026, 3, 13, 0, 0, 0, 0, seoul); !got.Equal(want) {
		t.Fatalf("without holidays: due %v, want %v", got, want)
	}
	if got, want := requestCalendar(reg, seoul).Due(recv), time.Date(2026, 3, 14, 0, 0, 0, 0, seoul); !got.Equal(want) {
		t.Fatalf("with 2026-03-12 a holiday: due %v, want %v", got, want)
	}
	if got := requestCalendar(nil, seoul).Due(recv); !got.Equal(time.Date(2026, 3, 13, 0, 0, 0, 0, seoul)) {
		t.Fatalf("without a registry: due %v", got)
	}
	// A date that is not one is refused with its line.
	bad := strings.Replace(string(b), "  timezone: Asia/Seoul\n", "  timezone: Asia/Seoul\n  holidays: [2026-02-30]\n", 1)
	if _, err := registry.Parse("jeonbuk.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "holidays") {
		t.Fatalf("a holiday that is no date: %v", err)
	}
}
