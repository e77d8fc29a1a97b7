"""Exchange with the national system (全国防返贫监测信息系统 / 扶贫开发信息系统, issue 16): the
national record layouts and code tables (`codes`, `layouts`), the exports in those layouts
(`ledgers`), the 录入国家系统 mark (`marks`) and the reconciliation of a national export uploaded
back (`reconcile`). See docs/national-exchange.md.

Modules, bottom to top: `codes` → `layouts` → `marks` → `ledgers` → `reconcile`.
"""
