# FinancialTracker: `make run` starts the platform, `make test` runs the whole suite.
.PHONY: setup run test bench lint format translations

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh $(ARGS)

bench: setup
	@scripts/bench.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

format: setup
	.venv/bin/ruff format .

# extract new strings and merge them into the catalogues (then translate translations/*/messages.po)
translations: setup
	.venv/bin/pybabel -q extract -F babel.cfg -k _l -o translations/messages.pot .
	.venv/bin/pybabel -q update -i translations/messages.pot -d translations
