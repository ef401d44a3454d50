"""Forms of contingency management: the director's settings, a missed test, a prize handed over, a
voucher exchange, the prize cabinet, and the reports' period."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Optional

from ..clinical.forms import MultiCheckboxField
from ..clinical.services import KIND_LABELS, SUBSTANCES
from ..domain import contingency as cm
from ..participants.forms import optional_id
from ..web.forms import AppForm
from .ledger import KIND_LABELS as PROTOCOL_LABELS
from .ledger import SIZE_LABELS

DATE_MESSAGE = "Enter a date like 2027-01-05."
WHOLE = "Enter a whole number."
DOLLARS = "Enter an amount in dollars, like 2.50."
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
COUNTS = ("max_days_between_tests", "return_after", "first_draws", "draw_step", "max_draws", "bonus_draws_all_clear",
          "attendance_draws", "voucher_bonus_every")
MONEY = ("voucher_start_cents", "voucher_step_cents", "voucher_bonus_cents", "yearly_cap_cents", "budget_cents")


def cents(value: Decimal | None) -> int | None:
    """Dollars typed in a form as whole cents (None when empty or not an amount)."""
    if value is None:
        return None
    try:
        return int((value * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


def dollars(amount: int) -> Decimal:
    """Cents as dollars for a form field."""
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


class Dollars(DecimalField):
    """An amount in dollars; anything that is not one gets this app's message."""

    def process_formdata(self, valuelist: list) -> None:
        """Read the amount, or say how to write one."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DOLLARS) from None


class Whole(IntegerField):
    """A whole number; anything else gets this app's message."""

    def process_formdata(self, valuelist: list) -> None:
        """Read the number, or say what is wanted."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(WHOLE) from None


def _whole(label: str) -> Whole:
    return Whole(label, validators=[InputRequired(WHOLE)])


def _money(label: str) -> Dollars:
    return Dollars(label, places=2, validators=[InputRequired(DOLLARS)])


class SettingsForm(AppForm):
    """The program's CM protocol: which kind, from when, what counts, the ladder, the bowl, the limits."""

    kind = RadioField("Contingency management", choices=dict(PROTOCOL_LABELS), validate_choice=False,
                      validators=[InputRequired("Choose off, prize draws or vouchers.")])
    effective_from = DateField("These settings apply from", validators=[InputRequired(DATE_MESSAGE)],
                               invalid_value_message=DATE_MESSAGE)
    test_kinds = MultiCheckboxField("Tests that count", choices=dict(KIND_LABELS))
    target_substances = MultiCheckboxField("Target substances (none checked: every substance counts)",
                                           choices=dict(SUBSTANCES))
    observed_only = BooleanField("Only observed collections count (a refusal always counts)")
    unclear_counts_as = RadioField("A dilute or invalid result", validate_choice=False,
                                   choices={"positive": "Counts as positive", "ignored": "Does not count"})
    max_days_between_tests = _whole("Most days between tests (0: no limit; a longer gap counts as a missed test)")
    return_after = _whole("Negative tests after a reset that bring back the earlier level (0: never)")
    first_draws = _whole("Draws for the first negative test")
    draw_step = _whole("More draws for each further negative test in a row")
    max_draws = _whole("Most draws for one test")
    bonus_draws_all_clear = _whole("Bonus draws when a test finds no substance at all")
    attendance_draws = _whole("Draws for each group meeting attended (0: none)")
    bowl_good_job = _whole("Good-job slips")
    bowl_small = _whole("Small-prize slips")
    bowl_large = _whole("Large-prize slips")
    bowl_jumbo = _whole("Jumbo-prize slips")
    prize_small = _money("Small prize worth about ($)")
    prize_large = _money("Large prize worth about ($)")
    prize_jumbo = _money("Jumbo prize worth about ($)")
    voucher_start_cents = _money("First voucher ($)")
    voucher_step_cents = _money("Added for each further negative test in a row ($)")
    voucher_bonus_cents = _money("Bonus ($)")
    voucher_bonus_every = _whole("Bonus every this many negative tests in a row (0: no bonus)")
    yearly_cap_cents = _money("Yearly cap per participant ($)")
    budget_cents = _money("Program budget for the year ($, 0: none set)")
    year_starts_month = SelectField("The year starts in", choices={str(n): m for n, m in enumerate(MONTHS, 1)},
                                    validate_choice=False)
    submit = SubmitField("Save the settings")

    @classmethod
    def of(cls, protocol: cm.Protocol, today: date) -> SettingsForm:
        """The form filled from a protocol, applying from today."""
        data = {name: getattr(protocol, name) for name in COUNTS}
        data.update({name: dollars(getattr(protocol, name)) for name in MONEY})
        data.update({f"bowl_{s}": protocol.bowl.get(s, 0) for s in cm.SIZES})
        data.update({f"prize_{s}": dollars(protocol.prize_cents.get(s, 0)) for s in cm.PRIZE_SIZES})
        return cls(formdata=None, kind=protocol.kind, effective_from=today, test_kinds=sorted(protocol.test_kinds),
                   target_substances=sorted(protocol.target_substances), observed_only=protocol.observed_only,
                   unclear_counts_as=protocol.unclear_counts_as, year_starts_month=str(protocol.year_starts_month),
                   **data)

    def to_protocol(self) -> cm.Protocol:
        """The protocol the form describes (validate first; the domain checks the ranges)."""
        try:
            month = int(self.year_starts_month.data or 1)
        except ValueError:
            month = 0
        values = {name: getattr(self, name).data for name in COUNTS}
        values.update({name: cents(getattr(self, name).data) for name in MONEY})
        return replace(cm.Protocol(), kind=self.kind.data or "", effective_from=self.effective_from.data,
                       test_kinds=frozenset(self.test_kinds.data or ()),
                       target_substances=frozenset(s for s in self.target_substances.data or () if s in SUBSTANCES),
                       observed_only=bool(self.observed_only.data),
                       unclear_counts_as=self.unclear_counts_as.data or "positive",
                       bowl={s: getattr(self, f"bowl_{s}").data for s in cm.SIZES},
                       prize_cents={"good_job": 0, **{s: cents(getattr(self, f"prize_{s}").data) for s in cm.PRIZE_SIZES}},
                       year_starts_month=month, **values)

    def refuse(self, problems: dict[str, str]) -> None:
        """Put each refusal next to its field (or at the top of the form)."""
        for name, message in problems.items():
            target = getattr(self, name, None)
            if target is None:
                self.form_errors.append(message)
            else:
                target.errors = [*target.errors, message]


class MissedForm(AppForm):
    """A test the participant was due for and did not give."""

    missed_on = DateField("Day of the missed test", validators=[InputRequired(DATE_MESSAGE)],
                          invalid_value_message=DATE_MESSAGE)
    submit = SubmitField("Record a missed test")


class DrawForm(AppForm):
    """The draw button (the form carries only its CSRF token)."""

    submit = SubmitField("Draw a slip")


class PrizeForm(AppForm):
    """The prize handed over for a drawn prize slip."""

    prize_id = SelectField("Prize from the cabinet", coerce=optional_id, validate_choice=False,
                           validators=[InputRequired("Choose a prize from the cabinet.")])
    submit = SubmitField("Hand over this prize")


class ExchangeForm(AppForm):
    """Voucher credit exchanged for goods or services."""

    amount = _money("Amount ($)")
    item = StringField("What it buys (goods or services, never cash)", validators=[InputRequired(
        "Say what the voucher buys (for example: bus pass, grocery card).")])
    submit = SubmitField("Record the exchange")


class NewPrizeForm(AppForm):
    """A prize added to the cabinet."""

    size = SelectField("Size", choices={s: SIZE_LABELS[s] for s in cm.PRIZE_SIZES}, validate_choice=False)
    name = StringField("Prize", validators=[InputRequired("Name the prize.")])
    value = _money("Worth ($)")
    count = _whole("In stock")
    submit = SubmitField("Add to the cabinet")


class StockForm(AppForm):
    """Prizes added to (or taken from) the stock of one prize."""

    change = _whole("Add to stock (a minus sign takes away)")
    submit = SubmitField("Update stock")


class PeriodForm(AppForm):
    """The reports' period (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    end = DateField("To", validators=[Optional()], invalid_value_message=DATE_MESSAGE)
