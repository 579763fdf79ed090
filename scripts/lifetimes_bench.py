#!/usr/bin/env python3
"""The reference for the scoring benchmark: lifetimes (PyPI) doing what a crm full rescoring does.

Reads orders (customer_id,date,amount), summarises them as of the end date (same-day purchases are one
transaction, the first purchase is not a repeat, whole days, weeks of 7 days), fits BG/NBD and Gamma-Gamma
(customers with repeat purchases of positive value), and predicts p_alive, expected purchases in 90 days and
12-month discounted lifetime value for every customer. Prints the seconds of each phase and the total.

Usage: lifetimes_bench.py ORDERS.csv YYYY-MM-DD
"""
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

path, end = sys.argv[1], sys.argv[2]
phases = {}
started = time.perf_counter()

clock = time.perf_counter()
orders = pd.read_csv(path, parse_dates=["date"])
phases["read"] = time.perf_counter() - clock

clock = time.perf_counter()
summary = summary_data_from_transaction_data(
    orders, "customer_id", "date", monetary_value_col="amount", observation_period_end=end, freq="D")
summary[["recency", "T"]] = summary[["recency", "T"]] / 7.0
phases["summary"] = time.perf_counter() - clock

clock = time.perf_counter()
def fitted(fitter, *columns):
    """Fits; on a large base scipy may stop at "precision loss" a hair from the optimum: retry looser."""
    try:
        return fitter.fit(*columns)
    except Exception:  # lifetimes' ConvergenceError
        return fitter.fit(*columns, tol=1e-4)


bgf = fitted(BetaGeoFitter(penalizer_coef=0.0), summary["frequency"], summary["recency"], summary["T"])
spenders = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
ggf = fitted(GammaGammaFitter(penalizer_coef=0.0), spenders["frequency"], spenders["monetary_value"])
phases["fit"] = time.perf_counter() - clock

clock = time.perf_counter()
p_alive = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
expected = bgf.conditional_expected_number_of_purchases_up_to_time(
    90 / 7.0, summary["frequency"], summary["recency"], summary["T"])
clv = ggf.customer_lifetime_value(
    bgf, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
    time=12, freq="W", discount_rate=0.01)
phases["predict"] = time.perf_counter() - clock

total = time.perf_counter() - started
r, alpha, a, b = (bgf.params_[k] for k in ("r", "alpha", "a", "b"))
p, q, v = (ggf.params_[k] for k in ("p", "q", "v"))
print(f"customers {len(summary)} orders {len(orders)}")
print(f"BG/NBD r={r:.4f} alpha={alpha:.4f} a={a:.4f} b={b:.4f}; Gamma-Gamma p={p:.4f} q={q:.4f} v={v:.4f}")
print("phases " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items()))
print(f"total_seconds {total:.2f}")
print(f"model_seconds {phases['fit'] + phases['predict']:.2f}")
