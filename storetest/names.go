package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/storify/storify"
)

// Account names are identifiers: width and case are folded, so fullwidth and
// upper-case spellings are the same account, and names with invisible,
// zero-width, look-alike-only or mixed-script characters are refused; lookups
// use the same key.
func testAccountNameRule(t *testing.T, s storify.Store) {
	ctx := context.Background()
	alice := createAccount(t, s, "Alice")
	sam := createAccount(t, s, "sam")
	for _, name := range []string{"alice", "ALICE", "ａｌｉｃｅ", "Ａｌｉｃｅ", " alice "} {
		_, err := s.CreateAccount(ctx, name, hash)
		wantCode(t, fmt.Sprintf("CreateAccount(%q) with Alice there", name), err, storify.ECONFLICT)
		got, err := s.AccountByName(ctx, name)
		if err != nil || got.ID != alice.ID {
			t.Errorf("AccountByName(%q) = #%d, %v; want Alice #%d", name, got.ID, err, alice.ID)
		}
	}
	for _, name := range []string{
		"alice\u200d", "alice\u034f", "\u3164", "ali\u3164ce", "alice\u200b", "\u202ealice", "аlice", // Cyrillic а
		"ſam", "Ⅻ", "x\u00a0y",
	} {
		_, err := s.CreateAccount(ctx, name, hash)
		wantCode(t, fmt.Sprintf("CreateAccount(%q)", name), err, storify.EINVALID)
		_, err = s.AccountByName(ctx, name)
		wantCode(t, fmt.Sprintf("AccountByName(%q)", name), err, storify.ENOTFOUND)
	}
	if got, err := s.AccountByName(ctx, "SAM"); err != nil || got.ID != sam.ID {
		t.Errorf("AccountByName(SAM) = #%d, %v; want sam #%d", got.ID, err, sam.ID)
	}
	// The name is kept as shown (width mapped, case kept).
	wide := createAccount(t, s, "Ｂｏｂ Ｓｍｉｔｈ")
	if wide.Name != "Bob Smith" {
		t.Errorf("CreateAccount(fullwidth Bob Smith).Name = %q, want %q", wide.Name, "Bob Smith")
	}
	if got, err := s.AccountByName(ctx, "bob  smith"); err != nil || got.ID != wide.ID {
		t.Errorf("AccountByName(bob  smith) = #%d, %v; want #%d", got.ID, err, wide.ID)
	}
	as, err := s.Accounts(ctx)
	if err != nil || len(as) != 3 {
		t.Errorf("Accounts = %+v, %v; want 3", as, err)
	}
}
