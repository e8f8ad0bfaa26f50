/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The attack detector's arithmetic at a window's end, as pure functions:
 * the BPF program runs them once a second (attack_roll), the unit tests
 * run them in userspace across as many windows as they like (the program's
 * windows are real seconds, which BPF_PROG_TEST_RUN cannot fake).  The one
 * header of include/ with code in it, for that reason: it includes nothing
 * and needs only the __u64-style types and include/synguard.h.
 *
 * attack_syn_rate=auto judges unanswered SYNs (a window's SYNs less the
 * handshakes that remote ends completed in it), not all SYNs: a host that
 * opens connections as fast as it can (a NAT gateway, a load test, a flash
 * crowd) completes them, a flood does not.  Its threshold is
 * max(floor, SG_AUTO_SYN_MULT x baseline), the baseline an EWMA of calm
 * windows only: while attack mode is on nothing is learned, and a calm
 * window's sample is clamped to max(floor, SG_AUTO_STEP x baseline), so a
 * flood below the threshold can raise it at most 1/8 a second (a flood
 * growing faster crosses it), while a rise of 10x in a minute (4% a
 * second) is followed with room to spare.
 */
#ifndef SYNGUARD_DETECT_H
#define SYNGUARD_DETECT_H

/* The auto SYN threshold (unanswered SYNs/s) for @baseline_fp and @floor. */
static inline __u64 detect_threshold(__u64 baseline_fp, __u64 floor)
{
	__u64 t = (baseline_fp * SG_AUTO_SYN_MULT) >> SG_AUTO_FP_SHIFT;

	return t > floor ? t : floor;
}

/* The baseline after a calm window of @sample unanswered SYNs/s. */
static inline __u64 detect_learn(__u64 baseline_fp, __u64 sample, __u64 floor)
{
	__u64 cap = baseline_fp * SG_AUTO_STEP, s;

	if (cap < floor << SG_AUTO_FP_SHIFT)
		cap = floor << SG_AUTO_FP_SHIFT;
	/* Clamped before the shift: no overflow for any count. */
	s = sample >= cap >> SG_AUTO_FP_SHIFT ? cap : sample << SG_AUTO_FP_SHIFT;
	if (s >= baseline_fp)
		return baseline_fp + ((s - baseline_fp) >> SG_AUTO_EWMA_SHIFT);
	return baseline_fp - ((baseline_fp - s) >> SG_AUTO_EWMA_SHIFT);
}

/* A window's unanswered SYNs: @syns less @done, never below 0. */
static inline __u64 detect_unanswered(__u64 syns, __u64 done)
{
	return syns > done ? syns - done : 0;
}

#endif /* SYNGUARD_DETECT_H */
