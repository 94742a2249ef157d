/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every journal record.
 *
 * CRC-32C rather than zlib's CRC-32 because it detects more error patterns in
 * short messages and is what ext4, iSCSI and SQLite's WAL-like formats use.
 */
#ifndef PROMRUN_CRC32C_H
#define PROMRUN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * crc32c: the checksum of len bytes at data, continuing from crc (pass 0 to
 * start).  crc32c(0, "123456789", 9) == 0xe3069283.  Uses the CPU's crc32
 * instruction where there is one (x86-64 with SSE 4.2), tables otherwise;
 * both give the same result.
 */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/* crc32c_tables: the same with tables only, what CPUs without it use. */
uint32_t crc32c_tables(uint32_t crc, const void *data, size_t len);

#endif
