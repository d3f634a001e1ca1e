/*
 * audio.c: container sniffing and durations.  See audio.h and
 * docs/internals/audio.md.  Every read goes through the cursor helpers
 * below, which check the length first: the bytes are a stranger's upload.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "audio.h"
#include "bounds.h"

#define BAD(e, ...)	rl_error_set((e), RL_EVALIDATION, __VA_ARGS__)

static uint32_t
be32(const unsigned char *p)
{

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const unsigned char *p)
{

	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t
le32(const unsigned char *p)
{

	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/* ceil(num * 1000 / den) without overflow for the values we meet. */
static long long
ms_ceil(uint64_t num, uint64_t den)
{
	uint64_t	 s, r;

	s = num / den;
	r = num % den;
	return (long long)(s * 1000 + (r * 1000 + den - 1) / den);
}

/* ------------------------------------------------------------------ */
/* MPEG audio frame headers (ISO 11172-3, 13818-3, and MPEG 2.5). */

struct mpa {
	int		 v1;		/* MPEG-1 */
	int		 layer;		/* 1, 2 or 3 */
	int		 mono;
	unsigned	 rate;		/* Hz */
	unsigned	 samples;	/* per frame */
	size_t		 len;		/* frame length in bytes */
};

/* kbit/s by [v1 ? layer - 1 : 3 + (layer == 1 ? 0 : 1)][index]. */
static const unsigned short mpa_kbps[5][16] = {
	{ 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416,
	    448, 0 },
	{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
	    0 },
	{ 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
	    0 },
	{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
	    0 },
	{ 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 },
};

static const unsigned mpa_rate[3] = { 44100, 48000, 32000 };

/* 0 and *f filled when p (4 bytes or more) starts a usable frame. */
static int
mpa_header(const unsigned char *p, size_t left, struct mpa *f)
{
	unsigned	 ver, lay, bri, sri, pad, kbps;

	if (left < 4 || p[0] != 0xff || (p[1] & 0xe0) != 0xe0)
		return -1;
	ver = (p[1] >> 3) & 3;		/* 0: 2.5, 1: reserved, 2: 2, 3: 1 */
	lay = (p[1] >> 1) & 3;		/* 1: III, 2: II, 3: I */
	bri = (p[2] >> 4) & 15;
	sri = (p[2] >> 2) & 3;
	pad = (p[2] >> 1) & 1;
	/* Free format (index 0) has no length to walk by: refused. */
	if (ver == 1 || lay == 0 || bri == 0 || bri == 15 || sri == 3)
		return -1;
	f->v1 = ver == 3;
	f->layer = 4 - (int)lay;
	f->mono = (p[3] >> 6) == 3;
	f->rate = mpa_rate[sri] >> (ver == 3 ? 0 : ver == 2 ? 1 : 2);
	kbps = mpa_kbps[f->v1 ? f->layer - 1 : f->layer == 1 ? 3 : 4][bri];
	if (f->layer == 1) {
		f->samples = 384;
		f->len = (12 * kbps * 1000 / f->rate + pad) * 4;
	} else if (f->layer == 2 || f->v1) {
		f->samples = 1152;
		f->len = 144 * kbps * 1000 / f->rate + pad;
	} else {
		f->samples = 576;
		f->len = 72 * kbps * 1000 / f->rate + pad;
	}
	return f->len >= 4 ? 0 : -1;
}

/* Bytes of an ID3v2 tag at p (0 when none), its footer included. */
static size_t
id3_len(const unsigned char *p, size_t len)
{

	if (len < 10 || memcmp(p, "ID3", 3) != 0 || ((p[6] | p[7] | p[8] |
	    p[9]) & 0x80) != 0)
		return 0;
	return 10 + ((size_t)p[6] << 21 | (size_t)p[7] << 14 |
	    (size_t)p[8] << 7 | p[9]) + ((p[5] & 0x10) ? 10 : 0);
}

/* Frames declared by a Xing/Info or VBRI header in frame f at p, or 0. */
static uint32_t
mpa_vbr_frames(const unsigned char *p, size_t left, const struct mpa *f)
{
	size_t	 off;

	/* Xing sits after the side information. */
	off = 4 + (f->v1 ? (f->mono ? 17 : 32) : (f->mono ? 9 : 17));
	if (off + 12 <= left && (memcmp(p + off, "Xing", 4) == 0 ||
	    memcmp(p + off, "Info", 4) == 0) && (be32(p + off + 4) & 1))
		return be32(p + off + 8);
	/* VBRI (Fraunhofer) sits 32 bytes after the header. */
	if (36 + 18 <= left && memcmp(p + 36, "VBRI", 4) == 0)
		return be32(p + 36 + 14);
	return 0;
}

static enum rl_err
mp3_duration(const unsigned char *b, size_t len, long long *ms,
    struct rl_error *e)
{
	struct mpa	 f, g;
	size_t		 off, scan;
	uint64_t	 samples = 0;
	uint32_t	 n;
	unsigned	 rate;

	off = id3_len(b, len);
	if (off >= len)
		return BAD(e, "MP3: ID3 tag without audio");
	/* The first frame: a header whose next frame also parses. */
	for (scan = 0; off < len && scan < RL_AUDIO_SYNC_SCAN; off++, scan++)
		if (mpa_header(b + off, len - off, &f) == 0 &&
		    (off + f.len == len || (off + f.len < len &&
		    mpa_header(b + off + f.len, len - off - f.len, &g) == 0)))
			break;
	if (off >= len || scan >= RL_AUDIO_SYNC_SCAN)
		return BAD(e, "MP3: no MPEG audio frame found");
	rate = f.rate;
	if ((n = mpa_vbr_frames(b + off, len - off, &f)) != 0) {
		*ms = ms_ceil((uint64_t)n * f.samples, rate);
		return RL_OK;
	}
	/* Constant or unmarked bit rate: count the frames. */
	while (off < len && mpa_header(b + off, len - off, &f) == 0 &&
	    f.rate == rate) {
		samples += f.samples;
		off += f.len;
	}
	/* What may follow the last frame: an ID3v1 tag, or padding. */
	if (off < len && len - off > 128 + 10 && !(len - off >= 3 &&
	    memcmp(b + off, "TAG", 3) == 0))
		return BAD(e, "MP3: damaged frame at byte %zu", off);
	*ms = ms_ceil(samples, rate);
	return RL_OK;
}

/* ------------------------------------------------------------------ */
/* RIFF WAVE. */

static enum rl_err
wav_duration(const unsigned char *b, size_t len, long long *ms,
    struct rl_error *e)
{
	size_t		 off = 12, csz;
	uint32_t	 byterate = 0;

	if (len < 12 || memcmp(b, "RIFF", 4) != 0 ||
	    memcmp(b + 8, "WAVE", 4) != 0)
		return BAD(e, "WAV: no RIFF WAVE header");
	while (off + 8 <= len) {
		csz = le32(b + off + 4);
		if (memcmp(b + off, "fmt ", 4) == 0) {
			if (csz < 16 || off + 8 + 16 > len)
				return BAD(e, "WAV: short fmt chunk");
			byterate = le32(b + off + 8 + 8);
		} else if (memcmp(b + off, "data", 4) == 0) {
			if (byterate == 0)
				return BAD(e, "WAV: data before a usable "
				    "fmt chunk");
			/*
			 * A recorder that never came back to write the size
			 * leaves 0 or 0xffffffff: the bytes present count.
			 */
			if (csz == 0 || csz > len - off - 8)
				csz = len - off - 8;
			*ms = ms_ceil(csz, byterate);
			return RL_OK;
		}
		if (csz > len - off - 8)
			break;
		off += 8 + csz + (csz & 1);
	}
	return BAD(e, "WAV: no data chunk");
}

/* ------------------------------------------------------------------ */
/* ISO base media (mp4, m4a): moov/mvhd's timescale and duration. */

/* The box of type t among [off, end): *body and *bend its payload. */
static int
mp4_find(const unsigned char *b, size_t off, size_t end, const char *t,
    size_t *body, size_t *bend)
{
	uint64_t	 sz;
	size_t		 hdr;

	while (off + 8 <= end) {
		sz = be32(b + off);
		hdr = 8;
		if (sz == 1) {
			if (off + 16 > end)
				return -1;
			sz = be64(b + off + 8);
			hdr = 16;
		} else if (sz == 0)
			sz = end - off;
		if (sz < hdr || sz > end - off)
			return -1;
		if (memcmp(b + off + 4, t, 4) == 0) {
			*body = off + hdr;
			*bend = off + (size_t)sz;
			return 0;
		}
		off += (size_t)sz;
	}
	return -1;
}

static enum rl_err
mp4_duration(const unsigned char *b, size_t len, long long *ms,
    struct rl_error *e)
{
	size_t		 mo, me, ho, he;
	uint64_t	 dur;
	uint32_t	 scale;

	if (mp4_find(b, 0, len, "moov", &mo, &me) == -1)
		return BAD(e, "MP4: no complete moov box");
	if (mp4_find(b, mo, me, "mvhd", &ho, &he) == -1 || he - ho < 4)
		return BAD(e, "MP4: no mvhd box");
	if (b[ho] == 1) {
		if (he - ho < 4 + 8 + 8 + 4 + 8)
			return BAD(e, "MP4: short mvhd box");
		scale = be32(b + ho + 20);
		dur = be64(b + ho + 24);
		if (dur == UINT64_MAX)
			dur = 0;
	} else {
		if (he - ho < 4 + 4 + 4 + 4 + 4)
			return BAD(e, "MP4: short mvhd box");
		scale = be32(b + ho + 12);
		dur = be32(b + ho + 16);
		if (dur == UINT32_MAX)
			dur = 0;
	}
	if (scale == 0 || dur == 0)
		return BAD(e, "MP4: mvhd gives no duration");
	if (dur / scale > RL_AUDIO_SECONDS_MAX)
		return BAD(e, "MP4: duration out of range");
	*ms = ms_ceil(dur, scale);
	return RL_OK;
}

/* ------------------------------------------------------------------ */
/* EBML (Matroska, WebM): Segment/Info's TimestampScale and Duration. */

#define EBML_HEADER	0x1A45DFA3u
#define EBML_SEGMENT	0x18538067u
#define EBML_INFO	0x1549A966u
#define EBML_CLUSTER	0x1F43B675u
#define EBML_SCALE	0x2AD7B1u
#define EBML_DURATION	0x4489u
#define EBML_UNKNOWN	UINT64_MAX

/* An element ID (marker bits kept) or size (stripped); -1 if cut short. */
static int
ebml_vint(const unsigned char *b, size_t len, size_t *off, int id,
    uint64_t *v)
{
	unsigned	 n, i, max = id ? 4 : 8;
	uint64_t	 x, ones;

	if (*off >= len || b[*off] == 0)
		return -1;
	for (n = 1; n <= max && !(b[*off] & (0x80 >> (n - 1))); n++)
		continue;
	if (n > max || len - *off < n)
		return -1;
	x = id ? b[*off] : (b[*off] & (0xffu >> n));
	ones = x == (0xffu >> n);
	for (i = 1; i < n; i++) {
		ones = ones && b[*off + i] == 0xff;
		x = x << 8 | b[*off + i];
	}
	*off += n;
	*v = !id && ones ? EBML_UNKNOWN : x;
	return 0;
}

/* The next element at *off within end: its id, payload offset and size. */
static int
ebml_elem(const unsigned char *b, size_t end, size_t *off, uint64_t *id,
    size_t *size)
{
	uint64_t	 sz;

	if (ebml_vint(b, end, off, 1, id) == -1 ||
	    ebml_vint(b, end, off, 0, &sz) == -1)
		return -1;
	if (sz == EBML_UNKNOWN) {
		*size = end - *off;
		return 1;
	}
	if (sz > end - *off)
		return -1;
	*size = (size_t)sz;
	return 0;
}

static int
ebml_float(const unsigned char *p, size_t n, double *d)
{
	union { uint32_t u; float f; }	 f4;
	union { uint64_t u; double d; }	 f8;

	if (n == 4) {
		f4.u = be32(p);
		*d = f4.f;
	} else if (n == 8) {
		f8.u = be64(p);
		*d = f8.d;
	} else
		return -1;
	return 0;
}

static enum rl_err
webm_info(const unsigned char *b, size_t off, size_t end, long long *ms,
    struct rl_error *e)
{
	uint64_t	 id, scale = 1000000;
	size_t		 sz, i;
	double		 dur = -1, s;

	while (off < end) {
		if (ebml_elem(b, end, &off, &id, &sz) != 0)
			return BAD(e, "WebM: damaged Info element");
		if (id == EBML_SCALE) {
			if (sz < 1 || sz > 8)
				return BAD(e, "WebM: bad TimestampScale");
			for (scale = 0, i = 0; i < sz; i++)
				scale = scale << 8 | b[off + i];
		} else if (id == EBML_DURATION &&
		    ebml_float(b + off, sz, &dur) == -1)
			return BAD(e, "WebM: bad Duration");
		off += sz;
	}
	if (dur < 0)
		return BAD(e, "WebM: no Duration in the Info element (a "
		    "live recording that was never finalised)");
	/* Duration counts TimestampScale nanoseconds. */
	s = dur * (double)scale / 1e9;
	if (!(s > 0) || s > RL_AUDIO_SECONDS_MAX || scale == 0)
		return BAD(e, "WebM: duration out of range");
	*ms = (long long)(s * 1000);
	if ((double)*ms < s * 1000)
		(*ms)++;
	return RL_OK;
}

static enum rl_err
webm_duration(const unsigned char *b, size_t len, long long *ms,
    struct rl_error *e)
{
	uint64_t	 id;
	size_t		 off = 0, sz, end;
	int		 r;

	if (ebml_elem(b, len, &off, &id, &sz) != 0 || id != EBML_HEADER)
		return BAD(e, "WebM: no EBML header");
	off += sz;
	if ((r = ebml_elem(b, len, &off, &id, &sz)) == -1 ||
	    id != EBML_SEGMENT)
		return BAD(e, "WebM: no Segment");
	end = off + sz;
	/* Info comes before the first Cluster in every muxer we know. */
	while (off < end) {
		if ((r = ebml_elem(b, end, &off, &id, &sz)) == -1)
			break;
		if (id == EBML_INFO && r == 0)
			return webm_info(b, off, off + sz, ms, e);
		if (id == EBML_CLUSTER || r == 1)
			break;
		off += sz;
	}
	return BAD(e, "WebM: no Info element before the first Cluster");
}

/* ------------------------------------------------------------------ */

enum rl_audio_fmt
rl_audio_sniff(const unsigned char *b, size_t len)
{
	struct mpa	 f;

	if (len >= 12 && memcmp(b, "RIFF", 4) == 0 &&
	    memcmp(b + 8, "WAVE", 4) == 0)
		return RL_AUDIO_WAV;
	if (len >= 12 && memcmp(b + 4, "ftyp", 4) == 0)
		return RL_AUDIO_MP4;
	if (len >= 4 && be32(b) == EBML_HEADER)
		return RL_AUDIO_WEBM;
	if (id3_len(b, len) > 0 || mpa_header(b, len, &f) == 0)
		return RL_AUDIO_MP3;
	return RL_AUDIO_NONE;
}

enum rl_audio_fmt
rl_audio_ext(const char *name)
{
	static const struct {
		const char		*ext;
		enum rl_audio_fmt	 fmt;
	} exts[] = {
		{ "mp3", RL_AUDIO_MP3 }, { "mpga", RL_AUDIO_MP3 },
		{ "mpeg", RL_AUDIO_MP3 }, { "mp4", RL_AUDIO_MP4 },
		{ "m4a", RL_AUDIO_MP4 }, { "wav", RL_AUDIO_WAV },
		{ "webm", RL_AUDIO_WEBM },
	};
	const char	*dot;
	size_t		 i;

	if (name == NULL || (dot = strrchr(name, '.')) == NULL)
		return RL_AUDIO_NONE;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot + 1, exts[i].ext) == 0)
			return exts[i].fmt;
	return RL_AUDIO_NONE;
}

const char *
rl_audio_name(enum rl_audio_fmt f)
{
	static const char *const names[RL_AUDIO__MAX] = {
		"none", "wav", "mp3", "mp4", "webm"
	};

	return (int)f >= 0 && f < RL_AUDIO__MAX ? names[f] : "none";
}

enum rl_err
rl_audio_duration(enum rl_audio_fmt f, const unsigned char *b, size_t len,
    long long *ms, struct rl_error *e)
{
	enum rl_err	 err;

	*ms = 0;
	switch (f) {
	case RL_AUDIO_WAV:
		err = wav_duration(b, len, ms, e);
		break;
	case RL_AUDIO_MP3:
		err = mp3_duration(b, len, ms, e);
		break;
	case RL_AUDIO_MP4:
		err = mp4_duration(b, len, ms, e);
		break;
	case RL_AUDIO_WEBM:
		err = webm_duration(b, len, ms, e);
		break;
	default:
		return BAD(e, "not a supported audio format");
	}
	if (err == RL_OK && *ms <= 0)
		err = BAD(e, "%s: the recording is empty", rl_audio_name(f));
	else if (err == RL_OK && *ms / 1000 > RL_AUDIO_SECONDS_MAX)
		err = BAD(e, "%s: duration out of range", rl_audio_name(f));
	return err;
}
