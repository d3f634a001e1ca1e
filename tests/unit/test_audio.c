/*
 * test_audio.c: lib/audio.c.  Each container is built here, byte by byte,
 * with a known duration: WAV (fmt and data chunks), MP3 (constant bit
 * rate frames counted, a Xing header, a VBRI header, ID3v2 and ID3v1
 * tags), MP4 (mvhd version 0 and 1, moov after mdat), WebM (8- and 4-byte
 * Duration, a TimestampScale, a Segment of unknown size).  Then every
 * file is cut at every length and must give a duration or RL_EVALIDATION,
 * never a read outside the buffer (the sanitizers watch).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "audio.h"
#include "harness.h"

struct out {
	unsigned char	 b[1 << 20];
	size_t		 n;
};

static void
put(struct out *o, const void *p, size_t n)
{

	if (o->n + n > sizeof(o->b))
		abort();
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void
put8(struct out *o, unsigned v)
{
	unsigned char	 c = (unsigned char)v;

	put(o, &c, 1);
}

static void
le16(struct out *o, unsigned v)
{

	put8(o, v & 0xff);
	put8(o, v >> 8);
}

static void
le32(struct out *o, uint32_t v)
{

	le16(o, v & 0xffff);
	le16(o, v >> 16);
}

static void
be32(struct out *o, uint32_t v)
{

	put8(o, v >> 24);
	put8(o, (v >> 16) & 0xff);
	put8(o, (v >> 8) & 0xff);
	put8(o, v & 0xff);
}

static void
be64(struct out *o, uint64_t v)
{

	be32(o, (uint32_t)(v >> 32));
	be32(o, (uint32_t)v);
}

static void
zeros(struct out *o, size_t n)
{

	while (n-- > 0)
		put8(o, 0);
}

/* 16-bit PCM at rate Hz, channels, ms of silence. */
static void
wav(struct out *o, unsigned rate, unsigned ch, unsigned ms, int junk)
{
	uint32_t	 data = rate * ch * 2 * ms / 1000;

	o->n = 0;
	put(o, "RIFF", 4);
	le32(o, 36 + data + (junk ? 10 : 0));
	put(o, "WAVE", 4);
	if (junk) {
		put(o, "LIST", 4);
		le32(o, 2);
		put(o, "ab", 2);
	}
	put(o, "fmt ", 4);
	le32(o, 16);
	le16(o, 1);
	le16(o, ch);
	le32(o, rate);
	le32(o, rate * ch * 2);
	le16(o, ch * 2);
	le16(o, 16);
	put(o, "data", 4);
	le32(o, data);
	zeros(o, data);
}

/*
 * MPEG-1 layer III, 128 kbit/s, 44.1 kHz, stereo: 417 bytes a frame
 * (418 padded), 1152 samples.  xing/vbri: the first frame carries that
 * header declaring nframes.
 */
static void
mp3(struct out *o, unsigned nframes, int id3, int xing, int vbri,
    int tag)
{
	unsigned	 i;
	size_t		 start;

	o->n = 0;
	if (id3) {
		put(o, "ID3\x03\x00\x00", 6);
		put8(o, 0);
		put8(o, 0);
		put8(o, 1);		/* 128 bytes of tag */
		put8(o, 0);
		zeros(o, 128);
	}
	for (i = 0; i < nframes; i++) {
		start = o->n;
		put8(o, 0xff);
		put8(o, 0xfb);
		put8(o, 0x90);
		put8(o, 0x00);
		if (i == 0 && xing) {
			zeros(o, 32);
			put(o, "Xing", 4);
			be32(o, 1);
			be32(o, xing);
		} else if (i == 0 && vbri) {
			zeros(o, 32);
			put(o, "VBRI", 4);
			zeros(o, 10);
			be32(o, vbri);
		}
		zeros(o, 417 - (o->n - start));
	}
	if (tag) {
		put(o, "TAG", 3);
		zeros(o, 125);
	}
}

/* ftyp, then moov/mvhd (version v) and mdat, in that order or not. */
static void
mp4(struct out *o, int v, uint32_t scale, uint64_t dur, int moov_last)
{
	struct out	*m;
	size_t		 mvhd;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		abort();
	mvhd = v == 1 ? 8 + 4 + 8 + 8 + 4 + 8 + 80 : 8 + 4 + 4 + 4 + 4 +
	    4 + 80;
	be32(m, 8 + mvhd);
	put(m, "moov", 4);
	be32(m, mvhd);
	put(m, "mvhd", 4);
	put8(m, v);
	zeros(m, 3);
	if (v == 1) {
		be64(m, 0);
		be64(m, 0);
		be32(m, scale);
		be64(m, dur);
	} else {
		be32(m, 0);
		be32(m, 0);
		be32(m, scale);
		be32(m, (uint32_t)dur);
	}
	zeros(m, 80);
	o->n = 0;
	be32(o, 20);
	put(o, "ftypM4A \0\0\0\0M4A ", 16);
	if (!moov_last)
		put(o, m->b, m->n);
	be32(o, 8 + 1000);
	put(o, "mdat", 4);
	zeros(o, 1000);
	if (moov_last)
		put(o, m->b, m->n);
	free(m);
}

/* A 1-byte EBML size (v < 127) or the unknown size. */
static void
ebml_size(struct out *o, size_t v, int unknown)
{

	if (unknown) {
		put8(o, 0x01);
		put(o, "\xff\xff\xff\xff\xff\xff\xff", 7);
	} else
		put8(o, 0x80 | (unsigned)v);
}

static void
webm(struct out *o, double dur, int four, unsigned scale_ms, int unknown,
    int no_duration)
{
	union { float f; uint32_t u; }	 f4;
	union { double d; uint64_t u; }	 f8;
	struct out			*info;

	if ((info = calloc(1, sizeof(*info))) == NULL)
		abort();
	/* TimestampScale 0x2AD7B1: 3 bytes of nanoseconds. */
	put(info, "\x2a\xd7\xb1", 3);
	ebml_size(info, 3, 0);
	put8(info, (scale_ms * 1000000) >> 16);
	put8(info, ((scale_ms * 1000000) >> 8) & 0xff);
	put8(info, (scale_ms * 1000000) & 0xff);
	if (!no_duration) {
		put(info, "\x44\x89", 2);
		if (four) {
			ebml_size(info, 4, 0);
			f4.f = (float)dur;
			be32(info, f4.u);
		} else {
			ebml_size(info, 8, 0);
			f8.d = dur;
			be64(info, f8.u);
		}
	}
	o->n = 0;
	put(o, "\x1a\x45\xdf\xa3", 4);
	ebml_size(o, 2 + 1 + 4, 0);
	put(o, "\x42\x82", 2);		/* DocType */
	ebml_size(o, 4, 0);
	put(o, "webm", 4);
	put(o, "\x18\x53\x80\x67", 4);	/* Segment */
	ebml_size(o, 4 + 1 + 2 + 4 + 1 + info->n, unknown);
	put(o, "\x11\x4d\x9b\x74", 4);	/* SeekHead, empty */
	ebml_size(o, 2, 0);
	put(o, "\xec\x80", 2);		/* Void */
	put(o, "\x15\x49\xa9\x66", 4);	/* Info */
	ebml_size(o, info->n, 0);
	put(o, info->b, info->n);
	free(info);
}

/* Duration of o as format f, or -1 with the error's text in why. */
static long long
dur(enum rl_audio_fmt f, const struct out *o, char *why, size_t whylen)
{
	struct rl_error	 e;
	long long	 ms;

	rl_error_clear(&e);
	if (rl_audio_duration(f, o->b, o->n, &ms, &e) != RL_OK) {
		if (why != NULL)
			(void)snprintf(why, whylen, "%s", e.msg);
		return e.code == RL_EVALIDATION ? -1 : -2;
	}
	return ms;
}

/* Every prefix of o: a duration or RL_EVALIDATION, nothing else. */
static int
prefixes(enum rl_audio_fmt f, const struct out *o)
{
	struct rl_error	 e;
	enum rl_err	 err;
	long long	 ms;
	unsigned char	*copy;
	size_t		 n, step;

	step = o->n > 4096 ? 7 : 1;
	for (n = 0; n <= o->n; n += step) {
		/* Its own allocation, so that ASan sees a read past n. */
		if ((copy = malloc(n > 0 ? n : 1)) == NULL)
			abort();
		memcpy(copy, o->b, n);
		err = rl_audio_duration(f, copy, n, &ms, &e);
		(void)rl_audio_sniff(copy, n);
		free(copy);
		if (err != RL_OK && err != RL_EVALIDATION)
			return 0;
		if (err == RL_OK && ms <= 0)
			return 0;
	}
	return 1;
}

int
main(void)
{
	static struct out	 o;
	char			 why[RL_ERRMSG_MAX];

	/* Extensions. */
	ok(rl_audio_ext("a.MP3") == RL_AUDIO_MP3 &&
	    rl_audio_ext("b.mpga") == RL_AUDIO_MP3 &&
	    rl_audio_ext("c.mpeg") == RL_AUDIO_MP3 &&
	    rl_audio_ext("x.m4a") == RL_AUDIO_MP4 &&
	    rl_audio_ext("x.mp4") == RL_AUDIO_MP4 &&
	    rl_audio_ext("r.wav") == RL_AUDIO_WAV &&
	    rl_audio_ext("r.webm") == RL_AUDIO_WEBM,
	    "the seed's extensions, any case");
	ok(rl_audio_ext("a.ogg") == RL_AUDIO_NONE &&
	    rl_audio_ext("wav") == RL_AUDIO_NONE &&
	    rl_audio_ext(NULL) == RL_AUDIO_NONE &&
	    rl_audio_ext("a.wav.exe") == RL_AUDIO_NONE,
	    "others are none");

	/* WAV. */
	wav(&o, 16000, 1, 2500, 0);
	ok(rl_audio_sniff(o.b, o.n) == RL_AUDIO_WAV, "WAV sniffed");
	ok(dur(RL_AUDIO_WAV, &o, NULL, 0) == 2500, "WAV 16 kHz mono 2.5 s");
	wav(&o, 44100, 2, 1000, 1);
	ok(dur(RL_AUDIO_WAV, &o, NULL, 0) == 1000,
	    "WAV 44.1 kHz stereo 1 s, a LIST chunk first");
	/* A recorder that never wrote the data size: the bytes count. */
	wav(&o, 8000, 1, 3000, 0);
	o.b[40] = o.b[41] = o.b[42] = o.b[43] = 0xff;
	ok(dur(RL_AUDIO_WAV, &o, NULL, 0) == 3000,
	    "WAV with data size 0xffffffff");
	wav(&o, 8000, 1, 3000, 0);
	memcpy(o.b + 12, "fmx ", 4);
	ok(dur(RL_AUDIO_WAV, &o, why, sizeof(why)) == -1, "WAV without "
	    "fmt refused (%s)", why);
	wav(&o, 8000, 1, 0, 0);
	ok(dur(RL_AUDIO_WAV, &o, why, sizeof(why)) == -1, "empty WAV "
	    "refused (%s)", why);
	wav(&o, 16000, 1, 300, 1);
	ok(prefixes(RL_AUDIO_WAV, &o), "WAV cut at every length");

	/* MP3: 100 frames of 1152 samples at 44.1 kHz = 2612.24 ms. */
	mp3(&o, 100, 0, 0, 0, 0);
	ok(rl_audio_sniff(o.b, o.n) == RL_AUDIO_MP3, "MP3 frame sniffed");
	ok(dur(RL_AUDIO_MP3, &o, NULL, 0) == 2613, "MP3 CBR: frames counted");
	mp3(&o, 100, 1, 0, 0, 1);
	ok(rl_audio_sniff(o.b, o.n) == RL_AUDIO_MP3, "MP3 ID3v2 sniffed");
	ok(dur(RL_AUDIO_MP3, &o, NULL, 0) == 2613,
	    "MP3 after ID3v2, before ID3v1");
	mp3(&o, 3, 0, 1000, 0, 0);
	ok(dur(RL_AUDIO_MP3, &o, NULL, 0) == 26123,
	    "MP3 Xing header: 1000 frames declared");
	mp3(&o, 3, 1, 0, 500, 0);
	ok(dur(RL_AUDIO_MP3, &o, NULL, 0) == 13062,
	    "MP3 VBRI header: 500 frames declared");
	mp3(&o, 100, 0, 0, 0, 0);
	memset(o.b + 417 * 50, 0x55, 1000);
	ok(dur(RL_AUDIO_MP3, &o, why, sizeof(why)) == -1, "MP3 damaged "
	    "mid-way refused (%s)", why);
	memset(o.b, 0x55, o.n);
	ok(dur(RL_AUDIO_MP3, &o, why, sizeof(why)) == -1 &&
	    rl_audio_sniff(o.b, o.n) == RL_AUDIO_NONE, "no frame: refused "
	    "(%s)", why);
	mp3(&o, 20, 1, 0, 0, 1);
	ok(prefixes(RL_AUDIO_MP3, &o), "MP3 cut at every length");

	/* MP4. */
	mp4(&o, 0, 44100, 44100 * 3 + 22050, 0);
	ok(rl_audio_sniff(o.b, o.n) == RL_AUDIO_MP4, "MP4 sniffed");
	ok(dur(RL_AUDIO_MP4, &o, NULL, 0) == 3500, "MP4 mvhd v0: 3.5 s");
	mp4(&o, 1, 1000, 45200, 1);
	ok(dur(RL_AUDIO_MP4, &o, NULL, 0) == 45200,
	    "MP4 mvhd v1, moov after mdat: 45.2 s");
	mp4(&o, 0, 0, 100, 0);
	ok(dur(RL_AUDIO_MP4, &o, why, sizeof(why)) == -1, "MP4 timescale 0 "
	    "refused (%s)", why);
	mp4(&o, 1, 1, UINT64_C(1) << 40, 0);
	ok(dur(RL_AUDIO_MP4, &o, why, sizeof(why)) == -1, "MP4 absurd "
	    "duration refused (%s)", why);
	mp4(&o, 0, 600, 6000, 1);
	o.n -= 10;
	ok(dur(RL_AUDIO_MP4, &o, why, sizeof(why)) == -1, "MP4 moov cut "
	    "short refused (%s)", why);
	mp4(&o, 1, 600, 6000, 1);
	ok(prefixes(RL_AUDIO_MP4, &o), "MP4 cut at every length");

	/* WebM. */
	webm(&o, 4250.0, 0, 1, 0, 0);
	ok(rl_audio_sniff(o.b, o.n) == RL_AUDIO_WEBM, "WebM sniffed");
	ok(dur(RL_AUDIO_WEBM, &o, NULL, 0) == 4250, "WebM 8-byte Duration");
	webm(&o, 250, 1, 10, 0, 0);
	ok(dur(RL_AUDIO_WEBM, &o, NULL, 0) == 2500,
	    "WebM 4-byte Duration, TimestampScale 10 ms");
	webm(&o, 1234.0, 0, 1, 1, 0);
	ok(dur(RL_AUDIO_WEBM, &o, NULL, 0) == 1234,
	    "WebM Segment of unknown size");
	webm(&o, 0, 0, 1, 1, 1);
	ok(dur(RL_AUDIO_WEBM, &o, why, sizeof(why)) == -1, "WebM without "
	    "Duration (a live recording) refused (%s)", why);
	webm(&o, -5, 0, 1, 0, 0);
	ok(dur(RL_AUDIO_WEBM, &o, why, sizeof(why)) == -1, "WebM negative "
	    "Duration refused (%s)", why);
	webm(&o, 4250.0, 0, 1, 0, 0);
	ok(prefixes(RL_AUDIO_WEBM, &o), "WebM cut at every length");

	/* Format mismatches. */
	wav(&o, 8000, 1, 1000, 0);
	ok(dur(RL_AUDIO_MP4, &o, NULL, 0) == -1 &&
	    dur(RL_AUDIO_WEBM, &o, NULL, 0) == -1 &&
	    dur(RL_AUDIO_NONE, &o, NULL, 0) == -1,
	    "a WAV read as another format is refused");
	ok(strcmp(rl_audio_name(RL_AUDIO_WEBM), "webm") == 0 &&
	    strcmp(rl_audio_name((enum rl_audio_fmt)99), "none") == 0,
	    "names");
	return done();
}
