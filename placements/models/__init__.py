from placements.models.budgets import (
    BudgetAdjustment,
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    FinancialYear,
    WeeklyCostLedgerRow,
)
from placements.models.children import Child
from placements.models.outbox import PendingRollup
from placements.models.placements import Contribution, Placement, PlacementCost, UnmetDemand
from placements.models.referrals import (
    ALLOWED_TRANSITIONS,
    NEEDS_QUESTIONS,
    PLACEMENT_QUESTIONS,
    REFERRAL_ANSWERS,
    Referral,
    ReferralRisk,
    ReferralSourcingRequest,
    ReferralStatus,
    ReferralStatusChange,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "NEEDS_QUESTIONS",
    "PLACEMENT_QUESTIONS",
    "REFERRAL_ANSWERS",
    "BudgetAdjustment",
    "BudgetLine",
    "BudgetLineRule",
    "BudgetPositionSnapshot",
    "Child",
    "Contribution",
    "FinancialYear",
    "PendingRollup",
    "Placement",
    "PlacementCost",
    "Referral",
    "ReferralRisk",
    "ReferralSourcingRequest",
    "ReferralStatus",
    "ReferralStatusChange",
    "UnmetDemand",
    "WeeklyCostLedgerRow",
]
