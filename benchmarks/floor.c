/* The native floor of a MinHash scan: what one core does at least, in plain C, to sign a corpus.
 *
 *     cc -O2 -march=native -o floor benchmarks/floor.c
 *     ./floor CORPUS.jsonl PERMS.bin NGRAM SEED [SIGNATURES.bin]
 *
 * For every JSON Lines record it reads the "text" string (JSON escapes decoded), folds ASCII as
 * dedupe's normaliser does (letters lowercased; every other ASCII byte that is not a letter or a
 * digit separates words), hashes each word with XXH64 (SEED), combines NGRAM consecutive word
 * hashes into a word n-gram hash as dedupe.shingle.ngram_hashes does, keeps its top 32 bits and
 * computes datasketch's affine32 MinHash under the permutations in PERMS.bin (num_perm uint32
 * values of a, then as many of b, little-endian). It does no de-duplication of shingles (MinHash
 * needs none), no LSH, no verification and no output beyond the signatures: the least work that
 * gives dedupe's signatures. With SIGNATURES.bin it writes them (documents x num_perm uint32),
 * so that benchmarks/speed.py can check they equal dedupe's. It prints one JSON line: documents,
 * seconds (reading the file included) and the number of n-grams hashed.
 *
 * Words broken by a hyphen at a line's end are joined, as dedupe joins them. Non-ASCII
 * characters are kept as word bytes (UTF-8), neither case-folded nor read as separators: dedupe
 * folds them by Unicode category, so the two agree on ASCII text and on non-ASCII letters that
 * are already lower case, which is what the benchmark corpora hold (speed.py checks every
 * signature and reports any that differs). The "text" key is found by a search, not a JSON
 * parser: a record whose text comes after another "text" key (nested deeper) is misread, and
 * speed.py's check would show it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint64_t P1 = 11400714785074694791ULL, P2 = 14029467366897019727ULL,
                      P3 = 1609587929392839161ULL, P4 = 9650029242287828579ULL,
                      P5 = 2870177450012600261ULL;
static const uint64_t MULT = 0x9E3779B97F4A7C15ULL;

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t round64(uint64_t acc, uint64_t lane) { return rotl(acc + lane * P2, 31) * P1; }
static inline uint64_t merge64(uint64_t acc, uint64_t v) { acc ^= round64(0, v); return acc * P1 + P4; }

static uint64_t xxh64(const uint8_t *p, size_t n, uint64_t seed) {
    const uint8_t *end = p + n;
    uint64_t h;
    if (n >= 32) {
        uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
        while (p <= end - 32) {
            v1 = round64(v1, rd64(p)); v2 = round64(v2, rd64(p + 8));
            v3 = round64(v3, rd64(p + 16)); v4 = round64(v4, rd64(p + 24));
            p += 32;
        }
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = merge64(merge64(merge64(merge64(h, v1), v2), v3), v4);
    } else {
        h = seed + P5;
    }
    h += (uint64_t)n;
    while (p + 8 <= end) { h ^= round64(0, rd64(p)); h = rotl(h, 27) * P1 + P4; p += 8; }
    if (p + 4 <= end) { h ^= (uint64_t)rd32(p) * P1; h = rotl(h, 23) * P2 + P3; p += 4; }
    while (p < end) { h ^= (*p) * P5; h = rotl(h, 11) * P1; p++; }
    h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3;
    return h ^ (h >> 32);
}

static inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33; h *= 0xFF51AFD7ED558CCDULL; h ^= h >> 33; h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
}

static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16; h *= 0x85EBCA6BU; h ^= h >> 13; h *= 0xC2B2AE35U;
    return h ^ (h >> 16);
}

#define MAX_PERMS 4096 /* dedupe's minhash.num_perm allows as many */

static uint8_t FOLD[256]; /* 0: a separator; else the folded byte (non-ASCII bytes: themselves) */

static inline int is_letter(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* Where the word continues after the hyphen at t[i] when it breaks a word at a line's end (a
 * letter before it, then the line break, any indent and a letter), else 0. */
static long joined(const uint8_t *t, long i, long n) {
    if (i == 0 || !is_letter(t[i - 1])) return 0;
    long k = i + 1;
    if (k < n && t[k] == '\r') k++;
    if (k >= n || t[k] != '\n') return 0;
    k++;
    while (k < n && (t[k] == ' ' || t[k] == '\t')) k++;
    return k < n && is_letter(t[k]) ? k : 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The "text" string of a JSON Lines record, decoded into out; its length, or -1. */
static long folded_text(const char *line, size_t len, uint8_t *out) {
    const char *p = line, *end = line + len;
    for (;;) { /* a "text" key: the string is followed by a colon (a value is not) */
        const char *key = strstr(p, "\"text\"");
        if (!key) return -1;
        p = key + 6;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (p < end && *p == ':') break;
    }
    p++;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p >= end || *p != '"') return -1;
    p++;
    long o = 0;
    while (p < end && *p != '"') {
        unsigned c = (uint8_t)*p++;
        if (c == '\\' && p < end) {
            char e = *p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': case 'f': c = ' '; break;
            case 'u': { /* the code point as UTF-8 (a surrogate pair joined), as dedupe reads it */
                long v = 0;
                for (int k = 0; k < 4 && p < end; k++) v = v * 16 + hexval(*p++);
                if (v >= 0xD800 && v < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    long lo = 0;
                    for (int k = 2; k < 6; k++) lo = lo * 16 + hexval(p[k]);
                    if (lo >= 0xDC00 && lo < 0xE000) { v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00); p += 6; }
                }
                if (v < 0x80) { c = (unsigned)v; break; }
                if (v < 0x800) { out[o++] = (uint8_t)(0xC0 | (v >> 6)); c = 0x80 | (v & 0x3F); break; }
                if (v < 0x10000) { out[o++] = (uint8_t)(0xE0 | (v >> 12)); out[o++] = (uint8_t)(0x80 | ((v >> 6) & 0x3F)); c = 0x80 | (v & 0x3F); break; }
                out[o++] = (uint8_t)(0xF0 | (v >> 18)); out[o++] = (uint8_t)(0x80 | ((v >> 12) & 0x3F));
                out[o++] = (uint8_t)(0x80 | ((v >> 6) & 0x3F)); c = 0x80 | (v & 0x3F);
                break;
            }
            default: c = (uint8_t)e;
            }
        }
        out[o++] = (uint8_t)c;
    }
    return o;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: floor CORPUS.jsonl PERMS.bin NGRAM SEED [SIGNATURES.bin]\n");
        return 2;
    }
    for (int c = 0; c < 256; c++) {
        if (c >= 'A' && c <= 'Z') FOLD[c] = (uint8_t)(c + 32);
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) FOLD[c] = (uint8_t)c;
        else FOLD[c] = c >= 128 ? (uint8_t)c : 0;
    }
    int ngram = atoi(argv[3]);
    uint64_t seed = strtoull(argv[4], NULL, 10);
    FILE *pf = fopen(argv[2], "rb");
    if (!pf) { perror(argv[2]); return 2; }
    uint32_t perms_ab[2 * MAX_PERMS + 1];
    size_t got = fread(perms_ab, 4, 2 * MAX_PERMS + 1, pf);
    fclose(pf);
    if (got % 2 || got > 2 * MAX_PERMS) {
        fprintf(stderr, "%s: expected an even number of uint32 values, at most %d\n", argv[2], 2 * MAX_PERMS);
        return 2;
    }
    int perms = (int)(got / 2);
    const uint32_t *a = perms_ab, *b = perms_ab + perms;
    FILE *out = argc > 5 ? fopen(argv[5], "wb") : NULL;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint8_t *text = NULL;
    size_t text_cap = 0;
    uint64_t *words = NULL;
    uint32_t *mixed = NULL;
    size_t words_cap = 0;
    uint32_t sig[MAX_PERMS];
    long docs = 0, grams = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if ((size_t)len + 1 > text_cap) {
            text_cap = 2 * (size_t)len + 1;
            text = realloc(text, text_cap);
            words = realloc(words, text_cap * sizeof(uint64_t));
            mixed = realloc(mixed, text_cap * sizeof(uint32_t));
            if (!text || !words || !mixed) {
                fprintf(stderr, "out of memory\n");
                return 8;
            }
            words_cap = text_cap;
        }
        long n = folded_text(line, (size_t)len, text);
        if (n < 0) continue;
        size_t w = 0;
        for (long i = 0; i < n;) {
            while (i < n && FOLD[text[i]] == 0) i++;
            long s = i, o = i, k;
            while (i < n) { /* the word's folded bytes, written over it from its start */
                uint8_t c = FOLD[text[i]];
                if (c) text[o++] = c, i++;
                else if (text[i] == '-' && (k = joined(text, i, n))) i = k;
                else break;
            }
            if (o > s && w < words_cap) words[w++] = xxh64(text + s, (size_t)(o - s), seed);
        }
        for (int k = 0; k < perms; k++) sig[k] = 0xFFFFFFFFU;
        /* the n-gram hashes first, then the signature four n-grams at a time, so that each
         * permutation's running minimum is read and written once for four (it vectorises) */
        size_t m = w >= (size_t)ngram ? w - (size_t)ngram + 1 : 0;
        for (size_t i = 0; i < m; i++) {
            uint64_t acc = words[i];
            for (int k = 1; k < ngram; k++) acc = acc * MULT + words[i + k];
            mixed[i] = fmix32((uint32_t)(fmix64(acc ^ (uint64_t)ngram) >> 32));
        }
        size_t i = 0;
        for (; i + 4 <= m; i += 4) {
            uint32_t x0 = mixed[i], x1 = mixed[i + 1], x2 = mixed[i + 2], x3 = mixed[i + 3];
            for (int k = 0; k < perms; k++) {
                uint32_t v0 = x0 * a[k] + b[k], v1 = x1 * a[k] + b[k];
                uint32_t v2 = x2 * a[k] + b[k], v3 = x3 * a[k] + b[k];
                uint32_t v = v0 < v1 ? v0 : v1, u = v2 < v3 ? v2 : v3;
                v = v < u ? v : u;
                sig[k] = v < sig[k] ? v : sig[k];
            }
        }
        for (; i < m; i++)
            for (int k = 0; k < perms; k++) {
                uint32_t v = mixed[i] * a[k] + b[k];
                sig[k] = v < sig[k] ? v : sig[k];
            }
        grams += (long)m;
        if (out) fwrite(sig, 4, (size_t)perms, out);
        docs++;
    }
    fclose(f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (out) fclose(out);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("{\"documents\": %ld, \"seconds\": %.6f, \"ngrams\": %ld}\n", docs, seconds, grams);
    free(line);
    free(text);
    free(words);
    free(mixed);
    return 0;
}
