package main

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"

	"github.com/storify/storify"
)

// Every Store call but Close goes through observedStore's own method, so that its
// database errors are counted: a method added to storify.Store and not to
// observedStore would pass through the embedded Store uncounted.
func TestObservedStoreCoversTheStore(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "observed.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil {
			if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok && id.Name == "observedStore" {
				own[fn.Name.Name] = true
			}
		}
	}
	st := reflect.TypeFor[storify.Store]()
	for i := range st.NumMethod() {
		if name := st.Method(i).Name; name != "Close" && !own[name] {
			t.Errorf("observedStore does not observe %s", name)
		}
	}
}

// countingMetrics counts database errors.
type countingMetrics struct {
	storify.NoMetrics
	unavailable, internal int
}

func (m *countingMetrics) DatabaseError(unavailable bool) {
	if unavailable {
		m.unavailable++
	} else {
		m.internal++
	}
}

// failingStore fails every call it is asked, as told.
type failingStore struct {
	storify.Store
	err error
}

func (s failingStore) Categories(context.Context) ([]storify.Category, error) { return nil, s.err }

// A call failing for want of the database counts as unavailable, an internal
// failure as internal; the user's mistakes, the store's refusals and a call cut
// short by shutdown count as neither.
func TestObservedStoreCountsDatabaseErrors(t *testing.T) {
	for _, c := range []struct {
		err                   error
		unavailable, internal int
	}{
		{storify.Unavailable(errors.New("dial tcp: i/o timeout")), 1, 0},
		{storify.Unconfirmed(errors.New("connection reset")), 1, 0},
		{errors.New("postgres: syntax error"), 0, 1},
		{storify.Errorf(storify.ENOTFOUND, "no such product"), 0, 0},
		{storify.Errorf(storify.ECONFLICT, "sold out"), 0, 0},
		{context.Canceled, 0, 0},
		{nil, 0, 0},
	} {
		m := &countingMetrics{}
		observedStore{failingStore{err: c.err}, m}.Categories(context.Background())
		if m.unavailable != c.unavailable || m.internal != c.internal {
			t.Errorf("%v: counted %d unavailable and %d internal, want %d and %d", c.err, m.unavailable, m.internal, c.unavailable, c.internal)
		}
	}
}
