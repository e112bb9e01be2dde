package server_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
)

// TestListPagedOverTelnet: over a real connection a customer's list comes a page at
// a time: 20 rows when the client sends no window size (nc), as many as fit when
// it does (NAWS), and Enter shows the next page.
func TestListPagedOverTelnet(t *testing.T) {
	_, addr, store := shopServer(t, &server.Server{})
	for i := 2; i <= 300; i++ {
		if _, err := store.AddProduct(context.Background(), storify.NewProduct{
			Name: fmt.Sprintf("Widget %03d", i), Price: 100, Stock: 50}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(reply string) int { return strings.Count(reply, "Widget ") + strings.Count(reply, "  Mug ") }

	// nc: no negotiation at all.
	c := connect(t, addr)
	c.until("Test> ")
	c.send("list")
	got := c.until("Test> ")
	if rows(got) != 20 || !strings.Contains(got, "products 1–20 of 300. Type next (or just Enter) for more") {
		t.Errorf("first page without a window size: %d rows:\n%s", rows(got), got)
	}
	c.send("")
	got = c.until("Test> ")
	if rows(got) != 20 || !strings.Contains(got, "products 21–40 of 300.") || !strings.Contains(got, "Widget 021") {
		t.Errorf("Enter after the first page: %d rows:\n%s", rows(got), got)
	}
	c.send("list 15")
	got = c.until("Test> ")
	if rows(got) != 20 || !strings.Contains(got, "products 281–300 of 300, the last page") {
		t.Errorf("list 15: %d rows:\n%s", rows(got), got)
	}

	// PuTTY and friends: WILL NAWS, then the size (80x15) once the server says DO.
	c = connect(t, addr)
	c.until("Test> ")
	io.WriteString(c.conn, "\xff\xfb\x1f")
	c.until("\xff\xfd\x1f") // IAC DO NAWS
	io.WriteString(c.conn, "\xff\xfa\x1f\x00\x50\x00\x0f\xff\xf0list\r\n")
	got = c.until("Test> ")
	if rows(got) != 11 || !strings.Contains(got, "products 1–11 of 300.") {
		t.Errorf("first page in a 15-line window: %d rows:\n%s", rows(got), got)
	}
	if lines := strings.Count(got, "\n") + 1; lines > 15 {
		t.Errorf("the page and its prompt take %d lines of a 15-line window:\n%s", lines, got)
	}
	// The window grows: the next page fills it.
	io.WriteString(c.conn, "\xff\xfa\x1f\x00\x50\x00\x28\xff\xf0next\r\n")
	got = c.until("Test> ")
	if rows(got) != 36 || !strings.Contains(got, "products 12–47 of 300.") {
		t.Errorf("next page in a 40-line window: %d rows:\n%s", rows(got), got)
	}
}
