"""Cross-cutting protections of the web application: response headers (CSP with a per-request nonce,
framing, caching), and neutralising spreadsheet formulas in exports."""
