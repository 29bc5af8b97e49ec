/* Helpers for benchmarks that measure in interleaved rounds (issue 15):
 * the median of the rounds' figures, their range, and a target that is
 * missed only when most rounds miss it.
 *
 * Why rounds and a majority: on a shared 2-core machine one round can be
 * slowed by another job; a figure taken as the median of rounds in which
 * the compared cases alternate, and a target judged by how many rounds
 * miss it, do not fail a run on one noisy round. With an odd number of
 * rounds, "missed in more than half the rounds" is the same as "the
 * median misses".
 *
 * A round whose figure could not be measured is NAN: the helpers skip it
 * (it counts neither as passed nor as missed). Header-only, static inline,
 * so a benchmark that uses part of it gets no unused-function warning. */
#ifndef MS_BENCH_ROUNDS_H
#define MS_BENCH_ROUNDS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Most rounds bench_median takes (a fixed copy: no VLA, no allocation). */
#define BENCH_ROUNDS_MAX 256

static inline int bench_cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/** Returns the median of the measured (non-NAN) values of v[0..n), or NAN
 *  when there is none or n is above BENCH_ROUNDS_MAX. */
static inline double bench_median(const double *v, size_t n)
{
    double s[BENCH_ROUNDS_MAX];
    size_t m = 0;
    if (n > BENCH_ROUNDS_MAX) return NAN;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) s[m++] = v[i];
    if (m == 0) return NAN;
    qsort(s, m, sizeof *s, bench_cmp_double);
    return m % 2 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
}

/** Out: lo, hi (NAN when no value is measured). In: v[0..n). */
static inline void bench_range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = *hi = NAN;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        if (isnan(*lo) || v[i] < *lo) *lo = v[i];
        if (isnan(*hi) || v[i] > *hi) *hi = v[i];
    }
}

/* A gated target: how many measured rounds missed it. */
typedef struct bench_gate {
    unsigned rounds;   /* rounds measured */
    unsigned missed;   /* of them, rounds that missed the target */
} bench_gate;

/** Count the figures of v[0..n) against `limit` (a round misses when its
 *  figure is above it; NAN rounds are skipped). Out: g. */
static inline void bench_gate_count(bench_gate *g, const double *v, size_t n, double limit)
{
    g->rounds = g->missed = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        g->rounds++;
        if (v[i] > limit) g->missed++;
    }
}

/** Returns 1 when the target is missed in more than half of its measured
 *  rounds, 0 otherwise (also when nothing was measured). */
static inline int bench_gate_missed(const bench_gate *g)
{
    return 2u * g->missed > g->rounds;
}

/** Print "missed in k of n rounds: ok" (or MISSED, or "not measured"). */
static inline void bench_gate_print(FILE *f, const bench_gate *g, const char *unit)
{
    if (g->rounds == 0) fprintf(f, "not measured");
    else fprintf(f, "missed in %u of %u %s: %s", g->missed, g->rounds, unit, bench_gate_missed(g) ? "MISSED" : "ok");
}

#endif
