"""The registry's pages, in modules by concern; the URL confs (`households/urls.py`,
`households/import_urls.py`) name each view by its module:

- `registry`: the household list and the household page with its tabs, creating and editing
  a household with its members
- `members`: the household page's small forms: a member's 减员 and 迁移, a year's income
- `procedures`: the identification and exit procedures, their 公示 and the to-do list
- `batches`: 批量办理, one meeting, one 公示, one review for many households
- `quality`: the data-quality problems, their check, explanation and review
- `imports`: the household import's pages (under the ledger pages' `ledgers:` names)
- `desk`: the home page's 工作台 panels (registered by `HouseholdsConfig`)
- `common`: what they share (the access checks, errors beside their fields, the quality
  warning after a save)

Arrows inside the package point one way: `common` at the bottom, every page module on it;
`batches` on `procedures` (the printable 公示). The package re-exports nothing: a view's
dotted name is the module that holds it.
"""
