/*
 * audio.h: what an uploaded recording is, from its bytes alone.  Pure
 * functions over a buffer (the whole file, mapped by the caller): the
 * container format from its magic bytes, and the duration its headers
 * declare, so that a transcription is checked and priced before anything
 * is sent upstream.  No decoding: a file whose headers do not say how long
 * it is gets RL_EVALIDATION, never a guess.
 */
#ifndef RL_AUDIO_H
#define RL_AUDIO_H

#include <stddef.h>

#include "relais.h"

/* The containers OpenAI's transcription endpoint takes that we read. */
enum rl_audio_fmt {
	RL_AUDIO_NONE = 0,	/* not a recording we know */
	RL_AUDIO_WAV,		/* RIFF WAVE */
	RL_AUDIO_MP3,		/* MPEG audio frames, maybe after ID3v2 */
	RL_AUDIO_MP4,		/* ISO BMFF (mp4, m4a) */
	RL_AUDIO_WEBM,		/* Matroska / WebM (EBML) */
	RL_AUDIO__MAX
};

/* The format the first bytes say, or RL_AUDIO_NONE. */
enum rl_audio_fmt rl_audio_sniff(const unsigned char *, size_t);
/*
 * The format a file name's extension promises (mp3, mpga, mpeg: MP3; mp4,
 * m4a: MP4; wav; webm), case-insensitive, or RL_AUDIO_NONE.
 */
enum rl_audio_fmt rl_audio_ext(const char *filename);
/* "wav", "mp3", "mp4", "webm", "none". */
const char	*rl_audio_name(enum rl_audio_fmt);
/*
 * Duration in milliseconds (rounded up) from the container's headers:
 * WAV fmt/data chunks, MP3 Xing/Info or VBRI frame count (else the frames
 * counted), MP4 moov/mvhd, WebM Segment/Info Duration.  RL_EVALIDATION
 * with a reason in e->msg when the headers are missing, truncated or
 * contradictory; never reads outside [buf, buf + len).
 */
enum rl_err	 rl_audio_duration(enum rl_audio_fmt, const unsigned char *,
		    size_t, long long *ms, struct rl_error *);

#endif
