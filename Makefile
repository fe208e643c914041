# Shortcuts for the project's scripts; the scripts are the source of truth.
.PHONY: demo test package lint-infra

demo:        ## run the product locally (console, API, workers, demo tenant)
	bash scripts/demo.sh

test:        ## every test, as CI runs it
	bash scripts/test.sh

package:     ## release arm64 zips of every Lambda function (target/lambda/<fn>/bootstrap.zip)
	bash scripts/package.sh

lint-infra:  ## cfn-lint, sam validate --lint, least privilege, CDK parity
	bash scripts/lint-infra.sh
