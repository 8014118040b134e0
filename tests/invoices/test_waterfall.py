"""The fee waterfall of docs/domain.md §6, to the cent."""

from app.services.dossiers.invoices import waterfall


def test_the_waterfall_of_domain_b_7_3():
    """15 000 € → 4 500 / 1 350 / 135 (expert keeps 3 150, platform 1 215); 10 000 € →
    3 000 / 900 / 90 (2 100 and 810); VAT 20 % on the platform's fee."""
    w = waterfall(1_500_000, 3000, 3000, 1000)
    assert (w.client_fee_cents, w.platform_fee_cents, w.referrer_cents) == (
        450_000,
        135_000,
        13_500,
    )
    assert (w.expert_keeps_cents, w.platform_keeps_cents) == (315_000, 121_500)
    assert (w.vat_cents, w.total_cents) == (27_000, 162_000)
    w = waterfall(1_000_000, 3000, 3000, 1000)
    assert (w.client_fee_cents, w.platform_fee_cents, w.referrer_cents) == (300_000, 90_000, 9_000)
    assert (w.expert_keeps_cents, w.platform_keeps_cents) == (210_000, 81_000)
    # exact cents, half up, each step from the previous rounded amount
    w = waterfall(333, 3333, 3000, 1000)
    assert (w.client_fee_cents, w.platform_fee_cents, w.vat_cents) == (111, 33, 7)
