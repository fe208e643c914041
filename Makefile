# Shortcuts for the project's scripts; the scripts are the source of truth.
.PHONY: demo test package lint-infra

demo:        ## run the product locally (console, API, workers, demo tenant)
	bash scripts/demo.sh

test:        ## every test, as CI runs it
	bash scripts/test.sh

package:     ## release arm64 zips of the Lambda functions (target/lambda/<fn>/bootstrap.zip); FUNCTIONS="ingest sender" for some
	bash scripts/package.sh $(FUNCTIONS)

lint-infra:  ## cfn-lint, sam validate --lint, least privilege, CDK parity
	bash scripts/lint-infra.sh
