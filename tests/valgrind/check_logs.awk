# Reads memcheck logs (one or more files) and fails unless every process
# that finished reported zero errors, and every still-reachable block was
# allocated under a library's own static state. Leaks that are definite,
# indirect or possible are already errors (--errors-for-leak-kinds), so the
# ERROR SUMMARY covers them; still-reachable blocks are checked here:
# each one's stack must pass through the dynamic loader (static constructors
# and TLS of shared libraries), RocksDB, gflags (RocksDB's flag registry) or
# Criterion's runner. A block that only our code holds fails the check.
# Prints "valgrind: N passed, M failed" (one per process log).
function flush_record() {
    if (in_rec && !allowed) {
        bad_reach++
        printf "%s: still reachable, not under a library's static state:\n%s\n", file, rec
    }
    in_rec = 0; rec = ""; allowed = 0
}
FNR == 1 {
    if (NR > 1) end_file()
    file = FILENAME; summary = -1; bad_reach = 0
}
/still reachable in loss record/ { flush_record(); in_rec = 1; rec = $0; next }
in_rec && /^==[0-9]+==    (at|by) / {
    rec = rec "\n" $0
    if ($0 ~ /librocksdb|libgflags|libcriterion|_dl_init|_dl_open|dl_open_worker|_dl_map_object|_dl_close|_dl_new_object|_dl_check_map_versions|_dl_lookup_symbol_x|tls_get_addr_tail|allocate_dtv_entry|_dl_load_cache_lookup/)
        allowed = 1
    next
}
in_rec { flush_record() }
/ERROR SUMMARY: / { summary = $4 + 0 }
END { if (NR > 0) end_file(); printf "valgrind: %d passed, %d failed\n", passed, failed; exit failed > 0 || passed == 0 }
function end_file() {
    flush_record()
    if (summary < 0) {
        # A forked child that exec'd an untraced program (a shell) leaves a
        # log with no summary; that process ran none of our code.
        skipped++
        return
    }
    if (summary == 0 && bad_reach == 0) passed++
    else { failed++; printf "%s: %d errors, %d unexplained still-reachable blocks\n", file, summary, bad_reach }
}
