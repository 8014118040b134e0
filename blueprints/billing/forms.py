from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import Length, Optional


class CheckoutForm(FlaskForm):
    """How the client pays for a plan. The plan's parameters and cycle travel as plain fields
    read by the pricing function (the same reading as the plans page)."""

    method = RadioField(
        _l("Payment method"),
        choices=[("sepa", _l("SEPA direct debit")), ("card", _l("Card"))],
        default="sepa",
    )
    holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=120)])
    iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=42)])
    mandate = BooleanField(_l("I authorise FinancialTracker to debit this account"))
    # the card method Stripe.js made in the browser; empty without JavaScript
    method_ref = HiddenField(validators=[Optional(), Length(max=120)])

    def sepa_problems(self) -> bool:
        """A direct debit needs a holder and the signed mandate (SEPA rules)."""
        ok = True
        if self.method.data == "sepa" and not self.method_ref.data:
            if not (self.holder.data or "").strip():
                self.holder.errors = [*self.holder.errors, _l("Enter the account holder's name.")]
                ok = False
            if not self.mandate.data:
                self.mandate.errors = [
                    *self.mandate.errors,
                    _l("Tick the box to sign the direct debit mandate."),
                ]
                ok = False
        return not ok


class BankAccountForm(FlaskForm):
    """Where a referrer's commissions are paid."""

    holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=70)])
    iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=42)])
