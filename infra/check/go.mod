module github.com/jwtgate/jwtgate/infra/check

go 1.26.8

require (
	github.com/awslabs/goformation/v7 v7.14.9
	github.com/jwtgate/jwtgate v0.0.0
	go.yaml.in/yaml/v3 v3.0.6
)

require gopkg.in/yaml.v3 v3.0.1 // indirect

// The product module, from this checkout: the checks read its settings list.
replace github.com/jwtgate/jwtgate => ../..
