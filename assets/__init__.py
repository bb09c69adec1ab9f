"""Data files shipped with Descent Studio (installed as the package `studio.assets`).

Icons, preset scenes (`scenes/*.json`), small data sets (`data/*.csv`) and the README's
screenshots. Code reads them through `studio.resources.asset_path`.
"""
