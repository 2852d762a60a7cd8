// Package check holds the offline checks of jwtgate's deployment files: the
// SAM template (parsed with goformation and, key by key, as raw YAML), the
// Bicep file, the packaged zips and the list of JWTGATE_ settings. It lives
// in its own Go module so that goformation never reaches the product's
// go.mod or binaries.
package check
