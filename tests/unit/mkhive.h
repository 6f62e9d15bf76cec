/* A minimal, empty Windows registry hive (regf), for tests: hivex edits
 * hives but cannot create one, and no hive ships in Debian. The base
 * block (its XOR checksum), one 4 KiB hbin holding the root key (nk), a
 * security descriptor (sk, a NULL DACL) and a free cell. */
#ifndef FERRY_TEST_MKHIVE_H
#define FERRY_TEST_MKHIVE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void put16(unsigned char *p, uint16_t v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void put32(unsigned char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static void put64(unsigned char *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

/* 0 when path holds the hive. */
static int mkhive(const char *path)
{
  enum { BLOCK = 0x1000, ROOT = 0x20, SK = 0x78, FREE = 0xa8 };
  static unsigned char h[2 * BLOCK];
  memset(h, 0, sizeof h);
  const uint64_t ft = 133000000000000000ull; /* a FILETIME in 2022 */
  unsigned char *base = h, *bin = h + BLOCK;
  /* base block */
  memcpy(base, "regf", 4);
  put32(base + 4, 1);      /* sequence numbers, equal: consistent */
  put32(base + 8, 1);
  put64(base + 12, ft);
  put32(base + 20, 1);     /* version 1.3 */
  put32(base + 24, 3);
  put32(base + 28, 0);     /* primary file */
  put32(base + 32, 1);     /* direct memory load */
  put32(base + 36, ROOT);  /* the root key's cell, from the first hbin */
  put32(base + 40, BLOCK); /* the hbins' length */
  put32(base + 44, 1);
  const char *name = "SYSTEM";
  for (size_t i = 0; name[i]; i++)
    base[48 + 2 * i] = (unsigned char)name[i]; /* UTF-16LE */
  uint32_t sum = 0;
  for (int i = 0; i < 0x1fc; i += 4)
    sum ^= (uint32_t)base[i] | (uint32_t)base[i + 1] << 8 |
           (uint32_t)base[i + 2] << 16 | (uint32_t)base[i + 3] << 24;
  put32(base + 0x1fc, sum);
  /* the hbin */
  memcpy(bin, "hbin", 4);
  put32(bin + 4, 0);       /* its offset */
  put32(bin + 8, BLOCK);   /* its size */
  put64(bin + 20, ft);
  /* the root key: an allocated cell (negative size) */
  unsigned char *nk = bin + ROOT;
  put32(nk, (uint32_t)-(int32_t)(SK - ROOT));
  nk += 4;
  memcpy(nk, "nk", 2);
  put16(nk + 2, 0x2c);          /* root key, compressed (ASCII) name */
  put64(nk + 4, ft);
  put32(nk + 28, 0xffffffff);   /* no subkeys list */
  put32(nk + 32, 0xffffffff);
  put32(nk + 40, 0xffffffff);   /* no values list */
  put32(nk + 44, SK);
  put32(nk + 48, 0xffffffff);   /* no class name */
  put16(nk + 72, 4);
  memcpy(nk + 76, "ROOT", 4);
  /* its security: revision 1, self-relative with a NULL DACL */
  unsigned char *sk = bin + SK;
  put32(sk, (uint32_t)-(int32_t)(FREE - SK));
  sk += 4;
  memcpy(sk, "sk", 2);
  put32(sk + 4, SK);            /* the list of sk cells: itself alone */
  put32(sk + 8, SK);
  put32(sk + 12, 1);            /* used by one key */
  put32(sk + 16, 20);
  sk[20] = 1;
  put16(sk + 22, 0x8004);       /* SE_SELF_RELATIVE | SE_DACL_PRESENT */
  /* the rest of the hbin: one free cell (positive size) */
  put32(bin + FREE, BLOCK - FREE);
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = fwrite(h, 1, sizeof h, f);
  return fclose(f) == 0 && w == sizeof h ? 0 : -1;
}

#endif
