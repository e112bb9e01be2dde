package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/storify/storify"
)

func sshKey(n int) storify.AccountKey {
	return storify.AccountKey{Fingerprint: fmt.Sprintf("SHA256:key%d", n), PublicKey: fmt.Sprintf("ssh-ed25519 AAAAkey%d", n)}
}

// Keys bind to one account, log it in, list oldest first, and unbind.
func testAccountKeys(t *testing.T, s storify.Store) {
	ctx := context.Background()
	ada, bob := createAccount(t, s, "Ada"), createAccount(t, s, "Bob")
	k1, err := s.AddAccountKey(ctx, ada.ID, sshKey(1))
	if err != nil || k1.Fingerprint != "SHA256:key1" || k1.PublicKey != "ssh-ed25519 AAAAkey1" || k1.Added.IsZero() || k1.Added.Location().String() != "UTC" {
		t.Fatalf("AddAccountKey = %+v, %v", k1, err)
	}
	if _, err := s.AddAccountKey(ctx, ada.ID, sshKey(2)); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AccountByKey(ctx, "SHA256:key2"); err != nil || a.ID != ada.ID || a.Name != "Ada" || len(a.PasswordHash) == 0 {
		t.Errorf("AccountByKey = %+v, %v", a, err)
	}
	keys, err := s.AccountKeys(ctx, ada.ID)
	if err != nil || len(keys) != 2 || keys[0].Fingerprint != "SHA256:key1" || keys[1].Fingerprint != "SHA256:key2" || !keys[0].Added.Equal(k1.Added) {
		t.Errorf("AccountKeys = %+v, %v", keys, err)
	}
	if keys, err := s.AccountKeys(ctx, bob.ID); err != nil || len(keys) != 0 {
		t.Errorf("AccountKeys of an account without keys = %+v, %v", keys, err)
	}
	for _, id := range []int64{ada.ID, bob.ID} {
		if _, err := s.AddAccountKey(ctx, id, sshKey(1)); storify.ErrorCode(err) != storify.ECONFLICT {
			t.Errorf("binding a bound key to account %d: %v, want ECONFLICT", id, err)
		}
	}
	if _, err := s.AddAccountKey(ctx, 999, sshKey(3)); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("a key for an unknown account: %v, want ENOTFOUND", err)
	}
	if _, err := s.AddAccountKey(ctx, ada.ID, storify.AccountKey{Fingerprint: "SHA256:x"}); storify.ErrorCode(err) != storify.EINVALID {
		t.Errorf("a key without its public key: %v, want EINVALID", err)
	}
	if _, err := s.AccountByKey(ctx, "SHA256:nobody"); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("AccountByKey of an unbound key: %v, want ENOTFOUND", err)
	}
	if err := s.RemoveAccountKey(ctx, bob.ID, "SHA256:key1"); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("removing another account's key: %v, want ENOTFOUND", err)
	}
	if err := s.RemoveAccountKey(ctx, ada.ID, "SHA256:key1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountByKey(ctx, "SHA256:key1"); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("AccountByKey after removal: %v, want ENOTFOUND", err)
	}
	if _, err := s.AddAccountKey(ctx, bob.ID, sshKey(1)); err != nil {
		t.Errorf("a removed key binds again: %v", err)
	}
	for i := 3; i <= storify.MaxAccountKeys+1; i++ { // Ada holds key2: these fill her up to the cap
		if _, err := s.AddAccountKey(ctx, ada.ID, sshKey(i)); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if _, err := s.AddAccountKey(ctx, ada.ID, sshKey(100)); storify.ErrorCode(err) != storify.ECONFLICT {
		t.Errorf("a key past the cap: %v, want ECONFLICT", err)
	}
}

// Ten accounts binding one key at once: one gets it.
func testConcurrentAccountKey(t *testing.T, s storify.Store) {
	const n = 10
	ids := make([]int64, n)
	for i := range n {
		ids[i] = createAccount(t, s, fmt.Sprintf("acct%d", i)).ID
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.AddAccountKey(context.Background(), ids[i], sshKey(1))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch storify.ErrorCode(err) {
		case "":
			won++
		case storify.ECONFLICT:
		default:
			t.Errorf("account %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d accounts bound the key, want 1", won)
	}
}

// Deleting an account unbinds its keys: the account is gone, and so is what its
// keys logged in to.
func testDeleteAccountWithKeys(t *testing.T, s storify.Store) {
	ctx := context.Background()
	ada := createAccount(t, s, "Ada")
	if _, err := s.AddAccountKey(ctx, ada.ID, sshKey(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteAccount(ctx, "Ada"); err != nil {
		t.Fatalf("DeleteAccount of an account with a key: %v", err)
	}
	if _, err := s.AccountByKey(ctx, "SHA256:key1"); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("AccountByKey after the account was deleted: %v, want ENOTFOUND", err)
	}
	bob := createAccount(t, s, "Bob")
	if _, err := s.AddAccountKey(ctx, bob.ID, sshKey(1)); err != nil {
		t.Errorf("the deleted account's key binds to another: %v", err)
	}
}
