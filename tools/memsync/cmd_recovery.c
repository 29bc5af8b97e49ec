/* recovery-phrase and restore (spec/device.md §6, spec/memory-sync.md §4):
 * the 24 words are the seed, so a new device with nothing but the phrase
 * gets the same identity, finds the memory (its salt is derived from the
 * seed) and decrypts every version (the owner's data keys are derived too). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "memstore.h"

#define PHRASE_INPUT_MAX 4096u

int cmd_recovery_phrase(const cli_opts *o)
{
    if (o->action != NULL) return cli_fail(CLI_USAGE, "recovery-phrase takes no argument");
    msd_identity *id;
    int rc = home_open_identity(&id, o);
    if (rc != CLI_OK) return rc;
    char words[MSD_MNEMONIC_MAX];
    msd_status s = msd_identity_mnemonic(words, sizeof words, id);
    msd_identity_destroy(id);
    if (s != MSD_OK) rc = cli_fail(cli_exit_of(s), "recovery phrase: %s", msd_strerror(s));
    if (rc == CLI_OK) {
        fprintf(stderr, "memsync: these 24 words are your identity: anyone who reads them owns your memory. "
                        "Write them down, keep them offline.\n");
        printf("%s\n", words);
        fflush(stdout);
    }
    sodium_memzero(words, sizeof words);
    return rc;
}

/* The phrase from standard input, unbuffered (no stdio copy left behind). */
static int read_phrase(char *buf, size_t cap, size_t *len)
{
    *len = 0;
    while (*len < cap) {
        ssize_t r = read(STDIN_FILENO, buf + *len, cap - *len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return cli_fail(CLI_IO, "cannot read standard input: %s", strerror(errno));
        if (r == 0) return CLI_OK;
        *len += (size_t)r;
    }
    return cli_fail(CLI_PHRASE, "standard input is longer than a recovery phrase");
}

int cmd_restore(const cli_opts *o)
{
    if (o->action != NULL) return cli_fail(CLI_USAGE, "restore reads the phrase from standard input, not the command line");
    char path[4096];
    int rc = home_key_path(path, sizeof path, o);
    if (rc == CLI_OK && access(path, F_OK) == 0)
        rc = cli_fail(CLI_IO, "%s already exists; restore writes a new home (give --home DIR)", path);
    char pass[PASS_MAX];
    size_t plen = 0;
    if (rc == CLI_OK) rc = home_read_passphrase(pass, sizeof pass, &plen, o);
    if (rc != CLI_OK) return rc;
    char *phrase = sodium_malloc(PHRASE_INPUT_MAX);
    size_t len = 0;
    if (phrase == NULL) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK) rc = read_phrase(phrase, PHRASE_INPUT_MAX, &len);
    msd_identity *id = NULL;
    if (rc == CLI_OK) {
        msd_status s = msd_identity_from_mnemonic(&id, phrase, len);
        if (s == MSD_ERR_MNEMONIC)
            rc = cli_fail(CLI_PHRASE, "not a valid recovery phrase: 24 English BIP-39 words, and the last one "
                                      "carries a checksum (a mistyped or swapped word fails it); nothing was written");
        else if (s != MSD_OK)
            rc = cli_fail(cli_exit_of(s), "restore: %s", msd_strerror(s));
    }
    if (phrase != NULL) sodium_free(phrase);
    if (rc == CLI_OK) rc = home_write_key(o, id, pass, plen);
    sodium_memzero(pass, sizeof pass);
    if (rc == CLI_OK) {
        uint8_t addr[20];
        msd_identity_address(id, addr);
        cli_print_field("address", addr, 20);
    }
    msd_identity_destroy(id);
    if (rc != CLI_OK || (o->rpc == NULL && o->node == NULL)) return rc;
    /* With a chain: find the memory and bring it into the new home. */
    memstore *m;
    rc = memstore_open(&m, o);
    memstore_sync_report rep;
    if (rc == CLI_OK) rc = memstore_sync(m, &rep, 0);
    msd_mem_doc *doc = NULL;
    if (rc == CLI_OK) rc = memstore_load(m, &doc, 0);
    if (rc == CLI_OK) {
        printf("memory    version %llu, %zu items\n", (unsigned long long)rep.version, msd_mem_count(doc));
        cli_print_field("asset", memstore_asset(m), 32);
    }
    msd_mem_free(doc);
    memstore_close(m);
    return rc;
}
