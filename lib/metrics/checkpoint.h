/*
 * checkpoint.h - the renderer's checkpoint: aggregate state, the journal's
 * identity and the offset it was read to, so the next render reads only
 * what was appended since.
 *
 * The file uses journal framing (every line checksummed):
 *
 *   checkpoint version=1 dev=D ino=I offset=O tail=CRC settings=...
 *   meta ... / snapshot ... / open ...      (agg_write_state's records)
 *   end records=N
 *
 * It is written atomically (atomicfile.h) but not synced: a crash can only
 * leave the old checkpoint or a damaged one, and it is only trusted whole: any
 * damage, a missing end, a wrong count, other settings, or a journal that
 * is not the one it describes (another file, shorter, or different bytes
 * before the offset) and the renderer reads the journal from the start.
 */
#ifndef PROMRUN_CHECKPOINT_H
#define PROMRUN_CHECKPOINT_H

#include <stdint.h>

#include "metrics/aggregate.h"
#include "common/err.h"

#define CHECKPOINT_TAIL_BYTES 256	/* journal bytes before the offset under the CRC */

struct checkpoint_id {
	uint64_t dev;
	uint64_t ino;
	uint64_t offset;	/* journal bytes the state covers */
	uint32_t tail_crc;	/* CRC-32C of the bytes just before offset */
};

/*
 * checkpoint_identify: the identity of the journal open on fd, read up to
 * offset.  Returns 0, or PERR_IO.
 */
int checkpoint_identify(int fd, uint64_t offset, struct checkpoint_id *id,
    struct perr *e);

/*
 * checkpoint_matches: the journal open on fd is the one id describes: same
 * file, at least offset bytes, same bytes before offset.
 */
bool checkpoint_matches(int fd, const struct checkpoint_id *id);

/*
 * checkpoint_save: write a's state with id and settings to path
 * atomically (mode 0644), by atomicfile.h's rule with
 * ATOMICFILE_REGULAR_ONLY: a FIFO or a device is refused, never replaced.
 * Returns 0, or PERR_IO / PERR_INVALID / PERR_NOMEM.
 */
int checkpoint_save(const char *path, const struct checkpoint_id *id,
    const char *settings, const struct agg *a, struct perr *e);

/*
 * checkpoint_load: fold the state stored at path into a, which must be
 * empty, and fill *id.  Returns 0 when the checkpoint was whole and made
 * with these settings; PERR_CORRUPT when it is missing, damaged or made
 * with other settings (e says which; a must then be discarded); PERR_IO
 * when it exists but cannot be read; PERR_NOMEM.
 */
int checkpoint_load(const char *path, const char *settings, struct agg *a,
    struct checkpoint_id *id, struct perr *e);

#endif
