"""Forms of contingency management: the director's settings, a missed test, a prize handed over, a
voucher exchange, the prize cabinet, and the reports' period."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
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

from ..clinical.forms import MultiCheckboxField, labelled
from ..clinical.services import KIND_LABELS, SUBSTANCES
from ..domain import contingency as cm
from ..participants.forms import optional_id
from ..web.forms import AppForm
from .ledger import KIND_TEXT as PROTOCOL_LABELS
from .ledger import SIZE_TEXT as SIZE_LABELS

DATE_MESSAGE = _l("Enter a date like 2027-01-05.")
WHOLE = _l("Enter a whole number.")
DOLLARS = _l("Enter an amount in dollars, like 2.50.")
MONTHS = (_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"), _l("August"),
          _l("September"), _l("October"), _l("November"), _l("December"))
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
            raise ValueError(str(DOLLARS)) from None


class Whole(IntegerField):
    """A whole number; anything else gets this app's message."""

    def process_formdata(self, valuelist: list) -> None:
        """Read the number, or say what is wanted."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(WHOLE)) from None


def _whole(label: str) -> Whole:
    return Whole(label, validators=[InputRequired(WHOLE)])


def _money(label: str) -> Dollars:
    return Dollars(label, places=2, validators=[InputRequired(DOLLARS)])


class SettingsForm(AppForm):
    """The program's CM protocol: which kind, from when, what counts, the ladder, the bowl, the limits."""

    kind = RadioField(_l("Contingency management"), choices=labelled(PROTOCOL_LABELS.items()), validate_choice=False,
                      validators=[InputRequired(_l("Choose off, prize draws or vouchers."))])
    effective_from = DateField(_l("These settings apply from"), validators=[InputRequired(DATE_MESSAGE)],
                               invalid_value_message=DATE_MESSAGE)
    test_kinds = MultiCheckboxField(_l("Tests that count"), choices=labelled(KIND_LABELS.items()))
    target_substances = MultiCheckboxField(_l("Target substances (none checked: every substance counts)"),
                                           choices=labelled(SUBSTANCES.items()))
    observed_only = BooleanField(_l("Only observed collections count (a refusal always counts)"))
    unclear_counts_as = RadioField(_l("A dilute or invalid result"), validate_choice=False,
                                   choices=labelled([("positive", _l("Counts as positive")), ("ignored", _l("Does not count"))]))
    max_days_between_tests = _whole(_l("Most days between tests (0: no limit; a longer gap counts as a missed test)"))
    return_after = _whole(_l("Negative tests after a reset that bring back the earlier level (0: never)"))
    first_draws = _whole(_l("Draws for the first negative test"))
    draw_step = _whole(_l("More draws for each further negative test in a row"))
    max_draws = _whole(_l("Most draws for one test"))
    bonus_draws_all_clear = _whole(_l("Bonus draws when a test finds no substance at all"))
    attendance_draws = _whole(_l("Draws for each group meeting attended (0: none)"))
    bowl_good_job = _whole(_l("Good-job slips"))
    bowl_small = _whole(_l("Small-prize slips"))
    bowl_large = _whole(_l("Large-prize slips"))
    bowl_jumbo = _whole(_l("Jumbo-prize slips"))
    prize_small = _money(_l("Small prize worth about ($)"))
    prize_large = _money(_l("Large prize worth about ($)"))
    prize_jumbo = _money(_l("Jumbo prize worth about ($)"))
    voucher_start_cents = _money(_l("First voucher ($)"))
    voucher_step_cents = _money(_l("Added for each further negative test in a row ($)"))
    voucher_bonus_cents = _money(_l("Bonus ($)"))
    voucher_bonus_every = _whole(_l("Bonus every this many negative tests in a row (0: no bonus)"))
    yearly_cap_cents = _money(_l("Yearly cap per participant ($)"))
    budget_cents = _money(_l("Program budget for the year ($, 0: none set)"))
    year_starts_month = SelectField(_l("The year starts in"), choices=labelled((str(n), m) for n, m in enumerate(MONTHS, 1)),
                                    validate_choice=False)
    submit = SubmitField(_l("Save the settings"))

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

    missed_on = DateField(_l("Day of the missed test"), validators=[InputRequired(DATE_MESSAGE)],
                          invalid_value_message=DATE_MESSAGE)
    submit = SubmitField(_l("Record a missed test"))


class DrawForm(AppForm):
    """The draw button (the form carries only its CSRF token)."""

    submit = SubmitField(_l("Draw a slip"))


class PrizeForm(AppForm):
    """The prize handed over for a drawn prize slip."""

    prize_id = SelectField(_l("Prize from the cabinet"), coerce=optional_id, validate_choice=False,
                           validators=[InputRequired(_l("Choose a prize from the cabinet."))])
    submit = SubmitField(_l("Hand over this prize"))


class ExchangeForm(AppForm):
    """Voucher credit exchanged for goods or services."""

    amount = _money(_l("Amount ($)"))
    item = StringField(_l("What it buys (goods or services, never cash)"), validators=[InputRequired(
        _l("Say what the voucher buys (for example: bus pass, grocery card)."))])
    submit = SubmitField(_l("Record the exchange"))


class NewPrizeForm(AppForm):
    """A prize added to the cabinet."""

    size = SelectField(_l("Size"), choices=labelled((s, SIZE_LABELS[s]) for s in cm.PRIZE_SIZES), validate_choice=False)
    name = StringField(_l("Prize"), validators=[InputRequired(_l("Name the prize."))])
    value = _money(_l("Worth ($)"))
    count = _whole(_l("In stock"))
    submit = SubmitField(_l("Add to the cabinet"))


class StockForm(AppForm):
    """Prizes added to (or taken from) the stock of one prize."""

    change = _whole(_l("Add to stock (a minus sign takes away)"))
    submit = SubmitField(_l("Update stock"))


class PeriodForm(AppForm):
    """The reports' period (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    end = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
