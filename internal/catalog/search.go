package catalog

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify"
	"golang.org/x/text/unicode/norm"
)

// SearchKey folds s for search: case as storify.FoldKey folds names, and accents
// dropped as well (a search for "creme" finds "Crème"), so that what a customer
// types without the accent still finds the product. Names are still told apart
// by FoldKey alone: "Crème" and "Creme" may be two products, and both are found.
func SearchKey(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii {
		return storify.FoldKey(s) // no accents to drop
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return storify.FoldKey(norm.NFC.String(b.String()))
}

// words splits a search key into its words: runs of letters and digits.
func words(key string) []string {
	return strings.FieldsFunc(key, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// Match kinds, best first: a product's rank is its worst word's kind.
const (
	nameWord uint8 = iota // a whole word of the name
	namePart              // part of a word of the name
	descWord              // a whole word of the description
	descPart              // part of a word of the description
	noMatch
)

// index is a snapshot's search index, built at its first search: a word index of
// names and descriptions, and a sorted array of the words' suffixes, so that a
// search for part of a word finds the words that hold it by binary search, not by
// looking at every product or word.
type index struct {
	name, desc map[string][]int32 // word to the products (index in all) it is a word of, ascending
	vocab      []string           // every word, sorted
	spelled    []string           // the words of vocab with a letter: what a typo may be of
	// suffixes are the suffixes of every word of vocab that start at a character,
	// sorted: the words holding a part are found by one binary search, whatever
	// the part's length and however many words share its letters.
	suffixes []suffix
}

// suffix is vocab[word][off:].
type suffix struct{ word, off int32 }

// postings adds i to the list of each word of text, once.
func postings(m map[string][]int32, text string, i int32) {
	for _, w := range words(SearchKey(text)) {
		if l := m[w]; len(l) == 0 || l[len(l)-1] != i {
			m[w] = append(l, i)
		}
	}
}

func newIndex(all []storify.Product) *index {
	ix := &index{name: map[string][]int32{}, desc: map[string][]int32{}}
	for i, p := range all {
		postings(ix.name, p.Name, int32(i))
		postings(ix.desc, p.Description, int32(i))
	}
	seen := make(map[string]bool, len(ix.name)+len(ix.desc))
	for _, m := range []map[string][]int32{ix.name, ix.desc} {
		for w := range m {
			if !seen[w] {
				seen[w] = true
				ix.vocab = append(ix.vocab, w)
			}
		}
	}
	slices.Sort(ix.vocab)
	for _, w := range ix.vocab {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			ix.spelled = append(ix.spelled, w)
		}
	}
	for v, w := range ix.vocab {
		for j := 0; j < len(w); j++ {
			if w[j]&0xc0 != 0x80 { // not inside a character
				ix.suffixes = append(ix.suffixes, suffix{int32(v), int32(j)})
			}
		}
	}
	slices.SortFunc(ix.suffixes, func(a, b suffix) int { return strings.Compare(ix.text(a), ix.text(b)) })
	return ix
}

// text is the suffix s stands for.
func (ix *index) text(s suffix) string { return ix.vocab[s.word][s.off:] }

// containing returns the words of the vocabulary that hold w as a part, w itself
// left out, in vocabulary order: the suffixes that start with w are next to each
// other in ix.suffixes.
func (ix *index) containing(w string) []string {
	if w == "" {
		return nil
	}
	i, _ := slices.BinarySearchFunc(ix.suffixes, w, func(s suffix, w string) int { return strings.Compare(ix.text(s), w) })
	var ids []int32
	for ; i < len(ix.suffixes) && strings.HasPrefix(ix.text(ix.suffixes[i]), w); i++ {
		if v := ix.suffixes[i].word; ix.vocab[v] != w {
			ids = append(ids, v)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]string, len(ids))
	for k, v := range ids {
		out[k] = ix.vocab[v]
	}
	return out
}

// hits are the products one word finds, as posting lists (ascending) by kind of
// match; they are merged only as far as a search needs.
type hits [noMatch][][]int32

func (ix *index) hits(w string) hits {
	var h hits
	add := func(kind uint8, l []int32) {
		if len(l) > 0 {
			h[kind] = append(h[kind], l)
		}
	}
	add(nameWord, ix.name[w])
	add(descWord, ix.desc[w])
	for _, v := range ix.containing(w) {
		add(namePart, ix.name[v])
		add(descPart, ix.desc[v])
	}
	return h
}

// size is the number of postings, an upper bound of the products found.
func (h *hits) size() int {
	n := 0
	for _, ls := range h {
		for _, l := range ls {
			n += len(l)
		}
	}
	return n
}

// kind is the best kind of match of product i, or noMatch.
func (h *hits) kind(i int32) uint8 {
	for k, ls := range h {
		for _, l := range ls {
			if _, ok := slices.BinarySearch(l, i); ok {
				return uint8(k)
			}
		}
	}
	return noMatch
}

// search returns the products filter.Search finds, best first: every word of
// it must be in the name or the description, as a whole word or part of one;
// products whose words are all found in the name come before those found in the
// description, and whole words before parts; ties in catalog order.
// Discontinued products are left out unless filter.All; filter.Category narrows
// as in Products.
//
// The rarest word's products are the candidates, each then looked up in the
// other words' posting lists, so that "kettle 0024" costs what 0024 finds, not
// what kettle does; a single word is merged kind by kind, in order, with no map.
func (s *Snapshot) search(filter storify.ProductFilter) []storify.Product {
	ix := s.searchIndex()
	ws := words(SearchKey(filter.Search))
	if len(ws) == 0 {
		return nil
	}
	hs := make([]hits, len(ws))
	for j, w := range ws {
		hs[j] = ix.hits(w)
	}
	slices.SortFunc(hs, func(a, b hits) int { return cmp.Compare(a.size(), b.size()) })
	catKey := storify.FoldKey(strings.TrimSpace(filter.Category))
	type hit struct {
		i    int32
		kind uint8
	}
	var found []hit
	// Candidates already seen (a product can be in several of the rarest word's
	// lists): a bitmap over the catalog when there are many, else a small set, so
	// that a rare word costs what it finds, not the catalog's size.
	var seenBits []uint64
	var seenSet map[int32]struct{}
	if n := hs[0].size(); n > len(s.all)/64 {
		seenBits = make([]uint64, (len(s.all)+63)/64)
	} else {
		seenSet = make(map[int32]struct{}, n)
	}
	seen := func(i int32) bool {
		if seenBits != nil {
			if seenBits[i/64]&(1<<(i%64)) != 0 {
				return true
			}
			seenBits[i/64] |= 1 << (i % 64)
			return false
		}
		if _, ok := seenSet[i]; ok {
			return true
		}
		seenSet[i] = struct{}{}
		return false
	}
	for kind := range hs[0] {
		var ids []int32
		for _, l := range hs[0][kind] {
			ids = append(ids, l...)
		}
		if len(hs[0][kind]) > 1 {
			slices.Sort(ids)
		}
		for _, i := range ids {
			if seen(i) {
				continue
			}
			k := uint8(kind)
			for j := 1; j < len(hs) && k < noMatch; j++ {
				k = max(k, hs[j].kind(i))
			}
			p := &s.all[i]
			if k == noMatch || p.Discontinued && !filter.All || catKey != "" && s.keys[i].category != catKey {
				continue
			}
			found = append(found, hit{i, k})
		}
	}
	// With one word, found is in rank order already. With more, the rarest
	// word's kind is only a floor: another word may rank a product lower.
	if len(hs) > 1 {
		slices.SortFunc(found, func(a, b hit) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.i, b.i)) })
	}
	ps := make([]storify.Product, len(found))
	for j, h := range found {
		ps[j] = s.current(s.all[h.i])
	}
	return ps
}

// Suggest answers storify.Store.SuggestSearch: text with each word that is in no
// product replaced by the closest word that is (one typo in a word of up to four
// letters, two in a longer one), or "" if there is nothing to correct or nothing
// close. Ties go to the word in more products. The words come back in lower case.
func (s *Snapshot) Suggest(text string) string {
	ix := s.searchIndex()
	ws := words(SearchKey(text))
	changed := false
	for j, w := range ws {
		if h := ix.hits(w); h.size() > 0 {
			ws[j] = strings.ToLower(w)
			continue
		}
		n := utf8.RuneCountInString(w)
		maxD := 1
		if n > 4 {
			maxD = 2
		}
		best, bestD, bestN := "", maxD+1, 0
		for _, v := range ix.spelled {
			if d := utf8.RuneCountInString(v) - n; d > maxD || d < -maxD {
				continue
			}
			d := storify.EditDistance(w, v)
			if in := len(ix.name[v]) + len(ix.desc[v]); d < bestD || d == bestD && in > bestN {
				best, bestD, bestN = v, d, in
			}
		}
		if best == "" {
			return ""
		}
		ws[j], changed = strings.ToLower(best), true
	}
	if !changed {
		return ""
	}
	return strings.Join(ws, " ")
}

// searchIndex returns the snapshot's search index, built at the first search.
// Snapshots are made after every change of stock, most of which no one searches.
func (s *Snapshot) searchIndex() *index {
	if ix := s.index.Load(); ix != nil {
		return ix
	}
	s.indexing.Lock()
	defer s.indexing.Unlock()
	if ix := s.index.Load(); ix != nil {
		return ix
	}
	ix := newIndex(s.all)
	s.index.Store(ix)
	return ix
}

// inherit gives s the search index of prev when prev has built one and both hold
// the same names and descriptions in the same order: a checkout or a restock
// changes only stock, and a catalog of 100,000 products should not be indexed
// again for it.
func (s *Snapshot) inherit(prev *Snapshot) {
	if prev == nil || len(prev.all) != len(s.all) {
		return
	}
	ix := prev.index.Load()
	if ix == nil {
		return
	}
	for i := range s.all {
		a, b := &s.all[i], &prev.all[i]
		if a.Name != b.Name || a.Description != b.Description {
			return
		}
	}
	s.index.Store(ix)
}

// indexHolder is embedded in Snapshot: its search index, once built or
// inherited. indexing makes concurrent first searches build it once.
type indexHolder struct {
	indexing sync.Mutex
	index    atomic.Pointer[index]
}
