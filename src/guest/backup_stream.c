/*
 * backup_stream.c — see backup_stream.h. The object is
 *
 *   header:  "CTBK" 0x01 0x00 0x00 0x00          (magic, format version 1)
 *   frames:  u32 BE length n (<= 1 MiB) | n bytes AES-256-GCM ciphertext | 16-byte tag
 *
 * of one zstd stream cut into frames. Frame i is sealed with the nonce
 * 0x00000000 || u64 BE i and the associated data header || final flag (1 on
 * the last frame only), so a frame moved, dropped, added after the last or
 * taken from another stream fails its tag, and a stream without its final
 * frame is truncated. Owns the format, the buffers and the child it starts
 * (waits for it, kills it when the stream fails); may not know any datastore.
 */
#define LOG_MODULE "backup"
#include "guest/backup_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/base64.h>
#include <nettle/gcm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "common/log.h"
#include "os/spawn.h"

extern char **environ;

#define STREAM_MAGIC	    "CTBK\x01\x00\x00\x00"
#define STREAM_HEADER_LEN   8
#define STREAM_FORMAT	    "ctbk1"
#define FRAME_PLAIN_MAX	    (1u << 20) /* 1 MiB: big enough that per-frame costs vanish */
#define FRAME_LEN_BYTES	    4
#define FRAME_TAG_LEN	    GCM_DIGEST_SIZE
#define FRAME_OVERHEAD	    (FRAME_LEN_BYTES + FRAME_TAG_LEN)
#define PIPE_CHUNK	    (1u << 20)
#define ZSTD_LEVEL	    3
#define CHILD_KILL_GRACE_MS 2000

int backup_key_from_base64(const char *b64, struct backup_key *out, struct ct_error *err)
{
	/* base64 of 32 bytes: 43 characters and one '=' */
	if (!b64 || strlen(b64) != 44)
		return ct_fail(err, 400, "The backup's encryption key is not base64 of 32 bytes.");
	struct base64_decode_ctx ctx;
	uint8_t buf[BASE64_DECODE_LENGTH(44)];
	size_t n = sizeof buf;
	base64_decode_init(&ctx);
	int ok = base64_decode_update(&ctx, &n, buf, 44, b64) && base64_decode_final(&ctx) &&
		 n == sizeof out->bytes;
	if (ok)
		memcpy(out->bytes, buf, sizeof out->bytes);
	explicit_bzero(buf, sizeof buf);
	if (!ok)
		return ct_fail(err, 400, "The backup's encryption key is not base64 of 32 bytes.");
	return 0;
}

/* --- the sealing ------------------------------------------------------------- */

static void frame_nonce(uint64_t counter, uint8_t nonce[GCM_IV_SIZE])
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

static void frame_aad(struct gcm_aes256_ctx *gcm, bool final)
{
	uint8_t aad[STREAM_HEADER_LEN + 1];
	memcpy(aad, STREAM_MAGIC, STREAM_HEADER_LEN);
	aad[STREAM_HEADER_LEN] = final ? 1 : 0;
	gcm_aes256_update(gcm, sizeof aad, aad);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- the child --------------------------------------------------------------- */

struct child {
	pid_t pid;
	int fd; /* our end of its stdin or stdout pipe */
	char **env;
};

static char **merged_env(char *const *add)
{
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (add && add[m])
		m++;
	char **env = calloc(n + m + 1, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t name_len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool overridden = false;
		for (size_t j = 0; j < m && !overridden; j++)
			overridden =
				!strncmp(add[j], environ[i], name_len) && add[j][name_len] == '=';
		if (!overridden)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = add[j];
	return env;
}

/* Start cmd with its stdout (want_stdout) or its stdin on a pipe whose other
 * end lands in c->fd. */
static int child_start(const struct backup_command *cmd, bool want_stdout, struct child *c,
		       struct ct_error *err)
{
	c->pid = -1;
	c->fd = -1;
	c->env = NULL;
	if (!cmd || !cmd->argv || !cmd->argv[0])
		return ct_fail(err, 500, "The backup tool command is empty.");
	int p[2] = {-1, -1}, rep[2] = {-1, -1}, errfd = -1;
	if (pipe2(p, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
		ct_fail(err, 500, "Cannot start %s: pipe: %s", cmd->argv[0], strerror(errno));
		goto fail;
	}
	/* A big pipe: fewer wake-ups between the tool and us. */
	(void)fcntl(p[0], F_SETPIPE_SZ, (int)PIPE_CHUNK);
	if (cmd->stderr_path) {
		errfd = open(cmd->stderr_path,
			     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (errfd < 0) {
			ct_fail(err, 500, "Cannot open %s: %s", cmd->stderr_path, strerror(errno));
			goto fail;
		}
	}
	if (cmd->env && !(c->env = merged_env(cmd->env))) {
		ct_fail(err, 500, "Out of memory.");
		goto fail;
	}
	struct os_child oc = {
		.argv = (const char *const *)cmd->argv,
		.env = (const char *const *)c->env,
		.stdin_fd = want_stdout ? 0 : p[0],
		.stdout_fd = want_stdout ? p[1] : 0,
		.stderr_fd = errfd > 0 ? errfd : 0,
		.work_dir = cmd->cwd,
		.set_umask = true,
		.umask = 077,
		.drop_identity = cmd->uid != (uid_t)-1,
		.uid = cmd->uid,
		.gid = cmd->gid,
		.report_fd = rep[1],
	};
	/* Without stderr_path, stderr goes to /dev/null, not into our pipe. */
	int devnull = -1;
	if (errfd < 0) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0) {
			ct_fail(err, 500, "Cannot open /dev/null: %s", strerror(errno));
			goto fail;
		}
		oc.stderr_fd = devnull;
	}
	if (!want_stdout) {
		/* stdout: /dev/null as well; the consumer speaks through its status. */
		oc.stdout_fd = errfd > 0 ? errfd : devnull;
	}
	c->pid = os_spawn(&oc);
	int spawn_errno = errno;
	close(rep[1]);
	rep[1] = -1;
	if (devnull >= 0)
		close(devnull);
	if (c->pid < 0) {
		ct_fail(err, 500, "Cannot start %s: %s", cmd->argv[0], strerror(spawn_errno));
		goto fail;
	}
	close(want_stdout ? p[1] : p[0]);
	c->fd = want_stdout ? p[0] : p[1];
	p[0] = p[1] = -1;
	struct os_exec_report report;
	if (os_exec_report_read(rep[0], &report)) {
		rep[0] = -1;
		ct_fail(err, 500, "Cannot run %s: %s", cmd->argv[0], strerror(report.error));
		close(c->fd);
		c->fd = -1;
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
		goto fail;
	}
	rep[0] = -1;
	if (errfd >= 0)
		close(errfd);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	if (errfd >= 0)
		close(errfd);
	free(c->env);
	c->env = NULL;
	return -1;
}

/* Wait for the child; its exit status, or -1 when it did not exit. With
 * kill_it, it is told to stop first (SIGTERM, then SIGKILL after a grace). */
static int child_finish(struct child *c, bool kill_it)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->env);
	c->env = NULL;
	if (c->pid <= 0)
		return -1;
	int status = 0;
	if (kill_it) {
		kill(c->pid, SIGTERM);
		for (int waited = 0; waited < CHILD_KILL_GRACE_MS; waited += 10) {
			pid_t r = waitpid(c->pid, &status, WNOHANG);
			if (r == c->pid)
				goto done;
			usleep(10 * 1000);
		}
		kill(c->pid, SIGKILL);
	}
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
done:
	c->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *tool_name(const struct backup_command *cmd)
{
	const char *slash = strrchr(cmd->argv[0], '/');
	return slash ? slash + 1 : cmd->argv[0];
}

/* --- tool stdout → store ------------------------------------------------------- */

struct sealer {
	struct store_writer *w;
	struct gcm_aes256_ctx gcm;
	uint64_t counter;
	uint8_t *frame; /* length | plaintext → ciphertext | tag */
	size_t used;	/* plaintext bytes in frame */
};

static int seal_frame(struct sealer *s, bool final, struct ct_error *err)
{
	uint8_t nonce[GCM_IV_SIZE];
	frame_nonce(s->counter++, nonce);
	gcm_aes256_set_iv(&s->gcm, GCM_IV_SIZE, nonce);
	frame_aad(&s->gcm, final);
	uint8_t *body = s->frame + FRAME_LEN_BYTES;
	put_u32(s->frame, (uint32_t)s->used);
	gcm_aes256_encrypt(&s->gcm, s->used, body, body);
	gcm_aes256_digest(&s->gcm, FRAME_TAG_LEN, body + s->used);
	size_t len = FRAME_LEN_BYTES + s->used + FRAME_TAG_LEN;
	s->used = 0;
	return store_write(s->w, s->frame, len, err);
}

/* Compress in into frames; end: flush and seal the final frame. */
static int seal_compressed(struct sealer *s, ZSTD_CCtx *z, const void *in, size_t len, bool end,
			   struct ct_error *err)
{
	ZSTD_inBuffer input = {in, len, 0};
	for (;;) {
		ZSTD_outBuffer output = {s->frame + FRAME_LEN_BYTES, FRAME_PLAIN_MAX, s->used};
		size_t left = ZSTD_compressStream2(z, &output, &input,
						   end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return ct_fail(err, 500, "Compressing the backup failed: %s",
				       ZSTD_getErrorName(left));
		s->used = output.pos;
		bool full = s->used == FRAME_PLAIN_MAX;
		if (end && left == 0)
			return seal_frame(s, true, err);
		if (full && seal_frame(s, false, err))
			return -1;
		if (!end && input.pos == input.size && !full)
			return 0;
	}
}

static int read_some(int fd, uint8_t *buf, size_t cap, size_t *got)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n >= 0) {
			*got = (size_t)n;
			return 0;
		}
		if (errno != EINTR)
			return -1;
	}
}

int backup_stream_from_command(struct backup_store *store, const char *name,
			       const struct backup_key *key, const struct backup_command *cmd,
			       backup_meta_fn meta_fn, void *meta_arg,
			       struct store_object_info *out, struct ct_error *err)
{
	struct sealer s = {0};
	struct child c = {.pid = -1, .fd = -1};
	ZSTD_CCtx *z = ZSTD_createCCtx();
	uint8_t *in = malloc(PIPE_CHUNK);
	s.frame = malloc(FRAME_PLAIN_MAX + FRAME_OVERHEAD);
	struct store_meta *meta = calloc(1, sizeof *meta);
	bool child_done = false;
	int rc = -1;
	if (!z || !in || !s.frame || !meta) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	/* A compression thread beside this one, which reads the pipe and seals:
	 * the tool, the compressor and the sealer overlap like a shell pipeline.
	 * A libzstd without threads refuses and compresses inline. */
	(void)ZSTD_CCtx_setParameter(z, ZSTD_c_nbWorkers, 1);
	gcm_aes256_set_key(&s.gcm, key->bytes);
	s.w = store_open_write(store, name, err);
	if (!s.w)
		goto out;
	if (store_write(s.w, STREAM_MAGIC, STREAM_HEADER_LEN, err))
		goto out;
	if (child_start(cmd, true, &c, err))
		goto out;
	for (;;) {
		size_t got = 0;
		if (read_some(c.fd, in, PIPE_CHUNK, &got)) {
			ct_fail(err, 500, "Reading the output of %s failed: %s", tool_name(cmd),
				strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (seal_compressed(&s, z, in, got, false, err))
			goto out;
	}
	int status = child_finish(&c, false);
	child_done = true;
	if (status != 0) {
		ct_fail(err, 500, "%s failed (exit status %d).", tool_name(cmd), status);
		goto out;
	}
	if (seal_compressed(&s, z, NULL, 0, true, err))
		goto out;
	if (store_meta_set(meta, "format", STREAM_FORMAT, err))
		goto out;
	if (meta_fn && meta_fn(meta_arg, meta, err))
		goto out;
	struct store_writer *w = s.w;
	s.w = NULL; /* finish releases it, whatever it answers */
	if (store_finish(w, meta, out, err))
		goto out;
	rc = 0;
out:
	if (!child_done)
		child_finish(&c, true);
	if (s.w)
		store_abort(s.w);
	explicit_bzero(&s.gcm, sizeof s.gcm);
	ZSTD_freeCCtx(z);
	free(in);
	free(s.frame);
	free(meta);
	return rc;
}

/* --- store → tool stdin ---------------------------------------------------------- */

struct opener {
	struct store_reader *r;
	struct gcm_aes256_ctx gcm;
	uint64_t counter;
	uint8_t *buf; /* bytes read from the store, not yet used */
	size_t start, end, cap;
	bool eof; /* the store's verified end was reached */
};

/* Make at least want bytes available in buf[start..end); fewer only at EOF. */
static int fill(struct opener *o, size_t want, struct ct_error *err)
{
	if (o->end - o->start >= want || o->eof)
		return 0;
	if (o->start > 0) {
		memmove(o->buf, o->buf + o->start, o->end - o->start);
		o->end -= o->start;
		o->start = 0;
	}
	while (o->end < want && !o->eof) {
		ssize_t n = store_read(o->r, o->buf + o->end, o->cap - o->end, err);
		if (n < 0)
			return -1;
		if (n == 0)
			o->eof = true;
		o->end += (size_t)n;
	}
	return 0;
}

/* Write all of buf to the consumer's stdin, never dying of SIGPIPE. */
static int feed(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int open_and_feed(struct opener *o, ZSTD_DCtx *z, int fd, uint8_t *plain, const char *tool,
			 struct ct_error *err)
{
	const char *corrupt = "The backup is corrupted or was encrypted with another key.";
	if (fill(o, STREAM_HEADER_LEN, err))
		return -1;
	if (o->end - o->start < STREAM_HEADER_LEN ||
	    memcmp(o->buf + o->start, STREAM_MAGIC, STREAM_HEADER_LEN))
		return ct_fail(err, 422, "The backup is not in the ctbk1 format.");
	o->start += STREAM_HEADER_LEN;
	size_t zret = 1; /* 0 once a whole zstd frame is decoded and flushed */
	uint8_t *out = malloc(PIPE_CHUNK);
	if (!out)
		return ct_fail(err, 500, "Out of memory.");
	int rc = -1;
	for (;;) {
		if (fill(o, FRAME_LEN_BYTES, err))
			goto done;
		if (o->end == o->start) {
			ct_fail(err, 422, "The backup is truncated (its final frame is missing).");
			goto done;
		}
		if (o->end - o->start < FRAME_LEN_BYTES) {
			ct_fail(err, 422, "The backup is truncated.");
			goto done;
		}
		uint32_t n = get_u32(o->buf + o->start);
		if (n > FRAME_PLAIN_MAX) {
			ct_fail(err, 422, "%s", corrupt);
			goto done;
		}
		size_t whole = FRAME_LEN_BYTES + n + FRAME_TAG_LEN;
		if (fill(o, whole, err))
			goto done;
		if (o->end - o->start < whole) {
			ct_fail(err, 422, "The backup is truncated.");
			goto done;
		}
		const uint8_t *body = o->buf + o->start + FRAME_LEN_BYTES;
		/* A frame is final when it opens with the final flag; try the flag
		 * the stream's position suggests first (the final frame is the last
		 * one in the object), then the other. */
		bool final = o->eof && o->end - o->start == whole;
		bool opened = false;
		uint8_t tag[FRAME_TAG_LEN];
		for (int attempt = 0; attempt < 2 && !opened; attempt++) {
			bool flag = attempt == 0 ? final : !final;
			uint8_t nonce[GCM_IV_SIZE];
			frame_nonce(o->counter, nonce);
			gcm_aes256_set_iv(&o->gcm, GCM_IV_SIZE, nonce);
			frame_aad(&o->gcm, flag);
			/* The tag covers the ciphertext: check before decrypting into plain. */
			gcm_aes256_decrypt(&o->gcm, n, plain, body);
			gcm_aes256_digest(&o->gcm, FRAME_TAG_LEN, tag);
			if (!memcmp(tag, body + n, FRAME_TAG_LEN)) {
				opened = true;
				final = flag;
			}
		}
		if (!opened) {
			ct_fail(err, 422, "%s", corrupt);
			goto done;
		}
		o->counter++;
		o->start += whole;
		ZSTD_inBuffer input = {plain, n, 0};
		while (input.pos < input.size || (final && zret != 0)) {
			ZSTD_outBuffer output = {out, PIPE_CHUNK, 0};
			zret = ZSTD_decompressStream(z, &output, &input);
			if (ZSTD_isError(zret)) {
				ct_fail(err, 422, "The backup does not decompress: %s",
					ZSTD_getErrorName(zret));
				goto done;
			}
			if (output.pos && feed(fd, out, output.pos)) {
				ct_fail(err, 500, "%s stopped reading the backup: %s", tool,
					strerror(errno));
				goto done;
			}
			if (input.pos == input.size && output.pos < output.size && zret != 0) {
				if (final) {
					ct_fail(err, 422, "The backup is truncated.");
					goto done;
				}
				break;
			}
		}
		if (final)
			break;
	}
	if (zret != 0) {
		ct_fail(err, 422, "The backup is truncated.");
		goto done;
	}
	/* Nothing may follow the final frame; the store checks the size and the
	 * SHA-256 once its end is read. */
	if (fill(o, 1, err))
		goto done;
	if (o->end != o->start || !o->eof) {
		ct_fail(err, 422, "The backup has bytes after its final frame.");
		goto done;
	}
	rc = 0;
done:
	free(out);
	return rc;
}

int backup_stream_to_command(struct backup_store *store, const char *name,
			     const struct backup_key *key, const struct backup_command *cmd,
			     struct ct_error *err)
{
	struct opener o = {.cap = FRAME_PLAIN_MAX + FRAME_OVERHEAD + PIPE_CHUNK};
	struct child c = {.pid = -1, .fd = -1};
	ZSTD_DCtx *z = ZSTD_createDCtx();
	o.buf = malloc(o.cap);
	uint8_t *plain = malloc(FRAME_PLAIN_MAX);
	int rc = -1;
	if (!z || !o.buf || !plain) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	gcm_aes256_set_key(&o.gcm, key->bytes);
	o.r = store_open_read(store, name, NULL, err);
	if (!o.r)
		goto out;
	if (child_start(cmd, false, &c, err))
		goto out;
	sigset_t pipe_set, old_mask;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	int fed = open_and_feed(&o, z, c.fd, plain, tool_name(cmd), err);
	struct timespec zero = {0, 0};
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (fed) {
		/* The consumer must not finish on a partial stream. */
		int status = child_finish(&c, true);
		(void)status;
		goto out;
	}
	close(c.fd);
	c.fd = -1;
	int status = child_finish(&c, false);
	if (status != 0) {
		ct_fail(err, 500, "%s failed (exit status %d).", tool_name(cmd), status);
		goto out;
	}
	rc = 0;
out:
	child_finish(&c, true);
	if (o.r)
		store_close(o.r);
	explicit_bzero(&o.gcm, sizeof o.gcm);
	if (plain)
		explicit_bzero(plain, FRAME_PLAIN_MAX);
	ZSTD_freeDCtx(z);
	free(o.buf);
	free(plain);
	return rc;
}
