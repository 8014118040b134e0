"""The simulator: the questionnaire and its answers (simulations), eligibility rules, the
formulas per product, the detailed TICPE engine, the funnel statistics and the exports of a
result (Excel, Word, PDF)."""
