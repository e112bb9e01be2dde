package telnet_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/storify/storify/telnet"
)

// repeatReader returns the same line on every Read, as a customer typing commands.
type repeatReader struct{ line []byte }

func (r repeatReader) Read(p []byte) (int, error) { return copy(p, r.line), nil }

type discardRW struct{ io.Reader }

func (discardRW) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkReadLine(b *testing.B) {
	line := []byte("add item01 1\r\n")
	c := telnet.NewConn(discardRW{repeatReader{line}}, telnet.Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if s, err := c.ReadLine(); err != nil || s != "add item01 1" {
			b.Fatalf("ReadLine = %q, %v", s, err)
		}
	}
}

func BenchmarkWriteFlush(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("  #  product                                 price  stock\n")
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&sb, "%3d  %-40s  %6d.%02d  %5d\n", i, fmt.Sprintf("item%02d stoneware mug, glazed, 350 ml", i), i*3, i*7%100, i*11)
	}
	reply := sb.String()
	prompt := "> "
	c := telnet.NewConn(discardRW{strings.NewReader("")}, telnet.Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(reply) + len(prompt)))
	for b.Loop() {
		c.WriteString(reply)
		c.WriteString(prompt)
		if err := c.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
