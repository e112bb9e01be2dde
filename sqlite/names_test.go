package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/sqlite"
)

// TestNameRuleConflictsReportedAtOpen: accounts made before the name rule, whose
// names the rule refuses or folds into an older account's, are reported when the
// store opens and cannot log in; none is merged or lost, and the others keep working.
func TestNameRuleConflictsReportedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "names.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	// As the old rule stored them: the key was storify.FoldKey of the name.
	for _, name := range []string{"alice", "sam", "alice\u034f", "alice\u200d", "ａｌｉｃｅ", "Bob"} {
		if _, err := db.Exec(`INSERT INTO accounts (name, name_key, password_hash, created_at) VALUES (?, ?, x'01', 0)`,
			name, storify.FoldKey(name)); err != nil {
			t.Fatalf("insert %q: %v", name, err)
		}
	}
	db.Close()
	if s, err = sqlite.Open(path); err != nil {
		t.Fatal(err)
	}
	conflicts := s.NameConflicts()
	want := map[string]int64{"alice\u034f": 0, "alice\u200d": 0, "ａｌｉｃｅ": 1}
	if len(conflicts) != len(want) {
		t.Errorf("NameConflicts = %+v, want %d", conflicts, len(want))
	}
	for _, c := range conflicts {
		if with, ok := want[c.Name]; !ok || c.WithID != with || c.Reason == "" {
			t.Errorf("conflict %+v not expected", c)
		}
	}
	ctx := context.Background()
	for name, id := range map[string]int64{"ALICE": 1, "ａｌｉｃｅ": 1, "SAM": 2, "bob": 6} {
		if a, err := s.AccountByName(ctx, name); err != nil || a.ID != id {
			t.Errorf("AccountByName(%q) = #%d, %v; want #%d", name, a.ID, err, id)
		}
	}
	if as, err := s.Accounts(ctx); err != nil || len(as) != 6 {
		t.Errorf("Accounts = %d, %v; want all 6 kept", len(as), err)
	}
	// Reopening finds the same conflicts and changes nothing more.
	s.Close()
	s = mustOpen(t, path)
	if got := s.NameConflicts(); len(got) != len(want) {
		t.Errorf("NameConflicts after a reopen = %+v", got)
	}
}
