package pdf

import (
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/schedule"
)

func benchmarkRender(b *testing.B, items int) {
	doc := sampleDocument(items)
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(items), "ns/item")
}

func BenchmarkRender500(b *testing.B)  { benchmarkRender(b, 500) }
func BenchmarkRender2000(b *testing.B) { benchmarkRender(b, 2000) }

// timedRender renders doc once and says how long it took and how many bytes it allocated. It collects
// garbage first (untimed) so that neither size pays for the other's.
func timedRender(b *testing.B, doc *schedule.Document) (time.Duration, uint64) {
	b.StopTimer()
	runtime.GC()
	b.StartTimer()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := Render(io.Discard, doc); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

// BenchmarkRenderScaling renders an empty, a 500-item and a 2,000-item schedule in turn, so that all three
// see the same machine load, and reports how much longer the largest takes than the middle one (t2000/t500,
// 4 if rendering were purely linear; the fixed cost of embedding the fonts pulls it below), the same ratio
// once the fixed cost of the empty schedule is taken off (marginal-t2000/t500, 4 when the per-item work
// is linear), the time per item at each size and the bytes each render allocates.
func BenchmarkRenderScaling(b *testing.B) {
	empty, small, large := sampleDocument(0), sampleDocument(500), sampleDocument(2000)
	var tEmpty, tSmall, tLarge time.Duration
	var aSmall, aLarge uint64
	for b.Loop() {
		d, _ := timedRender(b, empty)
		tEmpty += d
		d, a := timedRender(b, small)
		tSmall, aSmall = tSmall+d, aSmall+a
		d, a = timedRender(b, large)
		tLarge, aLarge = tLarge+d, aLarge+a
	}
	n := float64(b.N)
	b.ReportMetric(float64(tLarge)/float64(tSmall), "t2000/t500")
	b.ReportMetric(float64(tLarge-tEmpty)/float64(tSmall-tEmpty), "marginal-t2000/t500")
	b.ReportMetric(float64(tEmpty.Nanoseconds())/n, "ns/empty")
	b.ReportMetric(float64(tSmall.Nanoseconds())/n/500, "ns/item@500")
	b.ReportMetric(float64(tLarge.Nanoseconds())/n/2000, "ns/item@2000")
	b.ReportMetric(float64(aSmall)/n, "B/render@500")
	b.ReportMetric(float64(aLarge)/n, "B/render@2000")
}
