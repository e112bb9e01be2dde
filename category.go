package storify

import "strings"

// CleanCategory checks a category name: the rules of product names (CleanName),
// with "" (or only spaces) for no category.
func CleanCategory(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return CleanName(s, "category name")
}
