/*
 * Compiled hot loops of the simulation's frame path (optional: testbed.packets.speedups falls back to
 * the pure-Python code, which gives the same bytes; the tests compare the two).
 *
 * Why C here: a run's frames are mostly the segments of streaming sessions, and every frame is then
 * encoded as a pcapng block. Both loops do a few integer operations and a copy per frame, which the
 * interpreter turned into ~1.5 us of bytecode per frame (DESIGN.md, Speed: packet synthesis is ours).
 *
 * epb_encode(records, interface) -> (times, ends, blob)
 *     records: list of (ts_us, frame, comment or None), in capture order. Returns the frames' times as
 *     native int64s, the offset just past each block as native uint64s, and the Enhanced Packet Blocks
 *     (little-endian, as pcapng.EpbEncoder writes them).
 *
 * tcp_session(client, server, windows, timing, syn_options, t_us, rtt_us, sends, close_delay_us,
 *             close_by_server[, log, label]) -> (frames, t_done)
 *     What testbed.packets.tcp_connection makes of a whole TCP connection (TcpSession is its reference):
 *     the handshake, the slow-start bursts and delayed ACKs of each send, the close. A send's data may
 *     be a list of pieces (a TLS stream's records), copied once, into the segments. Given a FrameLog,
 *     each frame is made in place in its block there instead, and the list returned is empty.
 *
 * udp_frame(...), icmp_echo(...) -> bytes
 *     The frames of testbed.packets.ip's functions of the same names (their references).
 *
 * FrameLog: a household's frames not yet handed over, kept as blocks: add(frames, label) or
 *     add_spaced(t0_us, gap_us, frames, label) per step, take(until_us, final) per window
 *     (testbed.packets.frame_log has the pure-Python twin). A FrameLog can keep other blocks by time too:
 *     add_raw(t_us, data), and add_flow(...), a flow's line of truth/flows.csv (testbed.truth.flow_log
 *     has its pure-Python twin): a run writes half a million of them.
 *
 * take_merged(logs, until_us, final) -> (times, ends, blob)
 *     What take gives of each FrameLog, merged by capture time (ties in log order) in one copy.
 * take_merged_into(logs, until_us, final, sink) -> (frames, bytes)
 *     The same blocks, copied straight into a DirectFile's staging buffers.
 *
 * merge_encoded(parts) -> (times, ends, blob)
 *     Encoded parts (each in capture order) merged by capture time, ties in part order.
 *
 * community_id(proto, src, sport, dst, dport, seed) -> str
 *     Community ID v1 of a TCP or UDP flow over IPv4 (testbed.community_id has the pure-Python twin): a
 *     run labels about half a million flows, and the pure path spent ~1 us of bytecode on each.
 *
 * take, take_merged and merge_encoded share one merge (merge_sources) of blocks in capture order.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define EPB_TYPE 6u
#define EPB_FIXED 32u /* type, total length, interface, ts high, ts low, two lengths; trailing total */
#define OPT_COMMENT 1u
#define MIN_FRAME 60
#define HEADERS 54 /* Ethernet, IPv4 and TCP headers of a segment without options */
#define ACK_FLAG 0x10u
#define PSH_FLAG 0x08u
#define MOD 0xFFFFu

static inline void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void put_le16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void put_be16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static inline void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* 0 if a METH_FASTCALL function ``who`` got ``want`` arguments, else -1 and a TypeError. */
static int arity(const char *who, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want)
        return 0;
    PyErr_Format(PyExc_TypeError, "%s takes %zd arguments, got %zd", who, want, nargs);
    return -1;
}

/* ------------------------------------------------------------------ pcapng blocks */

typedef struct {
    long long ts;
    const char *frame;
    Py_ssize_t length;
    const char *comment; /* NULL: no comment option */
    Py_ssize_t comment_length;
} Record;

static int fill_record(PyObject *ts, PyObject *frame, PyObject *comment, const char *what, Py_ssize_t index,
                       Record *r);

static int read_record(PyObject *item, Py_ssize_t index, Record *r)
{
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
        PyErr_Format(PyExc_TypeError, "record %zd: expected a (ts_us, frame, comment) tuple", index);
        return -1;
    }
    return fill_record(PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1), PyTuple_GET_ITEM(item, 2), "record",
                       index, r);
}

/* ``what`` names the item in errors: "record 3: ...". */
static int fill_record(PyObject *ts, PyObject *frame, PyObject *comment, const char *what, Py_ssize_t index,
                       Record *r)
{
    r->ts = PyLong_AsLongLong(ts);
    if (r->ts == -1 && PyErr_Occurred())
        return -1;
    if (r->ts < 0) {
        PyErr_Format(PyExc_ValueError, "%s %zd: a capture time is never negative, got %lld", what, index, r->ts);
        return -1;
    }
    if (!PyBytes_Check(frame)) {
        PyErr_Format(PyExc_TypeError, "%s %zd: the frame must be bytes, not %.100s", what, index,
                     Py_TYPE(frame)->tp_name);
        return -1;
    }
    r->frame = PyBytes_AS_STRING(frame);
    r->length = PyBytes_GET_SIZE(frame);
    if (comment == Py_None) {
        r->comment = NULL;
        r->comment_length = 0;
    } else if (PyUnicode_Check(comment)) {
        r->comment = PyUnicode_AsUTF8AndSize(comment, &r->comment_length); /* cached in the str */
        if (r->comment == NULL)
            return -1;
        if (r->comment_length > 0xFFFF) {
            PyErr_Format(PyExc_ValueError, "%s %zd: a comment has at most 65535 bytes, got %zd", what, index,
                         r->comment_length);
            return -1;
        }
    } else {
        PyErr_Format(PyExc_TypeError, "%s %zd: the comment must be a str or None, not %.100s", what, index,
                     Py_TYPE(comment)->tp_name);
        return -1;
    }
    return 0;
}

static inline Py_ssize_t pad4(Py_ssize_t n) { return (4 - (n & 3)) & 3; }

static Py_ssize_t block_size(const Record *r)
{
    Py_ssize_t total = EPB_FIXED + r->length + pad4(r->length);
    if (r->comment != NULL)
        total += 4 + r->comment_length + pad4(r->comment_length) + 4; /* the option, end-of-options */
    return total;
}

/* ``block_size``, or -1 with an error when the block is too big for pcapng's 32-bit length. */
static Py_ssize_t checked_block_size(const Record *r, const char *what, Py_ssize_t index)
{
    Py_ssize_t size = block_size(r);
    if (size > 0xFFFFFFFFll) {
        PyErr_Format(PyExc_ValueError, "%s %zd: a block of %zd bytes does not fit pcapng", what, index, size);
        return -1;
    }
    return size;
}

/* What epb_encode, FrameLog.take and merge_encoded return: frames' times, block ends and the blocks,
 * as bytes objects made at their final size, and pointers to fill them through. */
typedef struct {
    PyObject *times, *ends, *blob;
    int64_t *tp;
    uint64_t *ep;
    unsigned char *out;
    /* Or, for take_merged_into, no arrays: the blocks go straight into a sink's staging buffers. */
    PyObject *sink;
    Py_buffer room; /* the sink's free room, while held (room.obj set) */
    Py_ssize_t used;  /* bytes put into it */
} Output;

/* Release an output not handed over. */
static void output_drop(Output *o)
{
    Py_CLEAR(o->times);
    Py_CLEAR(o->ends);
    Py_CLEAR(o->blob);
}

static int output_new(Output *o, Py_ssize_t frames, Py_ssize_t bytes)
{
    o->times = PyBytes_FromStringAndSize(NULL, frames * (Py_ssize_t)sizeof(int64_t));
    o->ends = PyBytes_FromStringAndSize(NULL, frames * (Py_ssize_t)sizeof(uint64_t));
    o->blob = PyBytes_FromStringAndSize(NULL, bytes);
    if (o->times == NULL || o->ends == NULL || o->blob == NULL) {
        output_drop(o);
        return -1;
    }
    o->tp = (int64_t *)PyBytes_AS_STRING(o->times);
    o->ep = (uint64_t *)PyBytes_AS_STRING(o->ends);
    o->out = (unsigned char *)PyBytes_AS_STRING(o->blob);
    return 0;
}

/* The (times, ends, blob) tuple, taking over the output's references. */
static PyObject *output_result(Output *o) { return Py_BuildValue("(NNN)", o->times, o->ends, o->blob); }

/* Write the Enhanced Packet Block of ``r`` (``size`` bytes, from ``block_size``) at ``p``. */
static void write_block(unsigned char *p, const Record *r, Py_ssize_t size, uint32_t interface)
{
    put_le32(p, EPB_TYPE);
    put_le32(p + 4, (uint32_t)size);
    put_le32(p + 8, interface);
    put_le32(p + 12, (uint32_t)((unsigned long long)r->ts >> 32));
    put_le32(p + 16, (uint32_t)r->ts);
    put_le32(p + 20, (uint32_t)r->length);
    put_le32(p + 24, (uint32_t)r->length);
    p += 28;
    if (r->frame != NULL) /* NULL: the caller writes the frame there (tcp_session) */
        memcpy(p, r->frame, (size_t)r->length);
    p += r->length;
    Py_ssize_t fill = pad4(r->length);
    memset(p, 0, (size_t)fill);
    p += fill;
    if (r->comment != NULL) {
        put_le16(p, OPT_COMMENT);
        put_le16(p + 2, (uint32_t)r->comment_length);
        memcpy(p + 4, r->comment, (size_t)r->comment_length);
        p += 4 + r->comment_length;
        fill = pad4(r->comment_length);
        memset(p, 0, (size_t)fill + 4); /* the padding, then end-of-options (code 0, length 0) */
        p += fill + 4;
    }
    put_le32(p, (uint32_t)size);
}

static PyObject *epb_encode(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *records;
    unsigned int interface;
    if (!PyArg_ParseTuple(args, "O!I:epb_encode", &PyList_Type, &records, &interface))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(records);
    /* First pass: read and check every record, and size the blob. The records cannot change before the
     * second pass: nothing in between runs Python code (bytes objects are not tracked by the cyclic GC,
     * so allocating them never starts a collection and its finalizers). */
    Record *rs = PyMem_Malloc(sizeof(Record) * (size_t)(count ? count : 1));
    if (rs == NULL)
        return PyErr_NoMemory();
    Py_ssize_t total = 0;
    Output o = {0};
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t size;
        if (read_record(PyList_GET_ITEM(records, i), i, &rs[i]) < 0 ||
            (size = checked_block_size(&rs[i], "record", i)) < 0) {
            PyMem_Free(rs);
            return NULL;
        }
        total += size;
    }
    if (output_new(&o, count, total) < 0) {
        PyMem_Free(rs);
        return NULL;
    }
    Py_ssize_t offset = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        const Record *r = &rs[i];
        Py_ssize_t size = block_size(r);
        write_block(o.out + offset, r, size, interface);
        offset += size;
        o.tp[i] = (int64_t)r->ts;
        o.ep[i] = (uint64_t)offset;
    }
    PyMem_Free(rs);
    return output_result(&o);
}

/* ------------------------------------------------------------------ a household's pending frames */

/* One frame waiting in a FrameLog: its capture time, its arrival order, and where its block is. */
typedef struct {
    int64_t t;
    uint64_t seq;
    Py_ssize_t offset;
    Py_ssize_t size;
} Pending;

typedef struct {
    PyObject_HEAD
    unsigned char *blob; /* the pending frames' blocks, in arrival order */
    Py_ssize_t length, capacity;
    Pending *pending;
    Py_ssize_t count, slots;
    uint64_t next_seq;
} FrameLog;

static int grow(void **buffer, Py_ssize_t *capacity, Py_ssize_t needed, size_t item)
{
    if (needed <= *capacity)
        return 0;
    Py_ssize_t wanted = *capacity ? *capacity : 64;
    while (wanted < needed)
        wanted *= 2;
    void *bigger = PyMem_Realloc(*buffer, (size_t)wanted * item);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buffer = bigger;
    *capacity = wanted;
    return 0;
}

static void frame_log_dealloc(FrameLog *self)
{
    PyMem_Free(self->blob);
    PyMem_Free(self->pending);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Room for a block of ``size`` bytes at time ``t`` at the end of the log (valid until the next append), or
 * NULL with an error set. */
static unsigned char *log_reserve(FrameLog *self, long long t, Py_ssize_t size)
{
    if (grow((void **)&self->pending, &self->slots, self->count + 1, sizeof(Pending)) < 0 ||
        grow((void **)&self->blob, &self->capacity, self->length + size, 1) < 0)
        return NULL;
    unsigned char *p = self->blob + self->length;
    Pending *q = &self->pending[self->count++];
    q->t = t;
    q->seq = self->next_seq++;
    q->offset = self->length;
    q->size = size;
    self->length += size;
    return p;
}

/* Where a log stood before a step's frames: a refused step rolls back to it (all or nothing). */
typedef struct {
    Py_ssize_t length, count;
    uint64_t next_seq;
} LogMark;

static inline LogMark log_mark(const FrameLog *self) { return (LogMark){self->length, self->count, self->next_seq}; }

/* Undo the appends since ``mark``; NULL, for the caller to return with its error set. */
static PyObject *log_rollback(FrameLog *self, LogMark mark)
{
    self->length = mark.length;
    self->count = mark.count;
    self->next_seq = mark.next_seq;
    return NULL;
}

/* Append one frame's block (``r``, refused with an error naming ``what`` ``index`` if too big). */
static int log_append(FrameLog *self, const Record *r, const char *what, Py_ssize_t index)
{
    Py_ssize_t size = checked_block_size(r, what, index);
    unsigned char *p = size < 0 ? NULL : log_reserve(self, r->ts, size);
    if (p == NULL)
        return -1;
    write_block(p, r, size, 0);
    return 0;
}

/* add(frames, label): encode a step's (ts_us, frame) pairs as blocks labelled ``label`` (a str or None).
 * All or nothing: a refused pair undoes the step's pairs added before it. */
static PyObject *frame_log_add(FrameLog *self, PyObject *args)
{
    PyObject *frames, *label;
    if (!PyArg_ParseTuple(args, "O!O:add", &PyList_Type, &frames, &label))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(frames);
    LogMark mark = log_mark(self);
    /* The borrowed pairs stay valid throughout: nothing below runs Python code. */
    if (grow((void **)&self->pending, &self->slots, self->count + count, sizeof(Pending)) < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyList_GET_ITEM(frames, i);
        Record r;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_Format(PyExc_TypeError, "frame %zd: expected a (ts_us, frame) tuple", i);
            return log_rollback(self, mark);
        }
        if (fill_record(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), label, "frame", i, &r) < 0 ||
            log_append(self, &r, "frame", i) < 0)
            return log_rollback(self, mark);
    }
    Py_RETURN_NONE;
}

/* A label (str or None) as a comment option's bytes (NULL for None); -1 and an error if it is neither
 * or too long for the option. */
static int label_comment(PyObject *label, const char **comment, Py_ssize_t *length)
{
    *comment = NULL;
    *length = 0;
    if (label == Py_None)
        return 0;
    if (!PyUnicode_Check(label)) {
        PyErr_Format(PyExc_TypeError, "the label must be a str or None, not %.100s", Py_TYPE(label)->tp_name);
        return -1;
    }
    *comment = PyUnicode_AsUTF8AndSize(label, length); /* cached in the str */
    if (*comment == NULL)
        return -1;
    if (*length > 0xFFFF) {
        PyErr_Format(PyExc_ValueError, "a label has at most 65535 bytes, got %zd", *length);
        return -1;
    }
    return 0;
}

/* add_raw(t_us, data): ``data`` (bytes-like) as one block at ``t_us``, as it is. */
static PyObject *frame_log_add_raw(FrameLog *self, PyObject *args)
{
    long long t;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "Ly*:add_raw", &t, &data))
        return NULL;
    unsigned char *p = log_reserve(self, t, data.len);
    if (p != NULL)
        memcpy(p, data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    if (p == NULL)
        return NULL;
    Py_RETURN_NONE;
}

/* A flows.csv field as its UTF-8 bytes: 1 if it goes in as it is, 0 if it is no exact str or holds a
 * character the csv module would quote or treat apart (a comma, a quote, a line break), -1 on an error. */
static int plain_field(PyObject *field, const char **bytes, Py_ssize_t *n)
{
    if (!PyUnicode_CheckExact(field))
        return 0;
    *bytes = PyUnicode_AsUTF8AndSize(field, n); /* cached in the str */
    if (*bytes == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < *n; i++) {
        char c = (*bytes)[i];
        if (c == ',' || c == '"' || c == '\r' || c == '\n')
            return 0;
    }
    return 1;
}

/* The decimal digits of ``v`` at ``out`` (room for 20); returns how many. By hand: snprintf took a third of
 * add_flow. */
static int put_decimal(char *out, unsigned long long v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

/* Epoch microseconds as seconds with six decimals, exactly (what f"{us / 1e6:.6f}" prints while the
 * quotient's double is within half a microsecond, which holds below 2**32 seconds): its length, 0 if the
 * value is no exact int in that range, -1 on an error. */
#define FLOW_TIME_LIMIT (4294967296LL * 1000000LL)
static int plain_time(PyObject *value, long long *us, char text[32])
{
    if (!PyLong_CheckExact(value))
        return 0;
    int overflow;
    *us = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (*us == -1 && PyErr_Occurred())
        return -1;
    if (overflow || *us < 0 || *us >= FLOW_TIME_LIMIT)
        return 0;
    int n = put_decimal(text, (unsigned long long)(*us / 1000000));
    text[n] = '.';
    for (int i = 6, fraction = (int)(*us % 1000000); i > 0; i--, fraction /= 10)
        text[n + i] = (char)('0' + fraction % 10);
    return n + 7;
}

/* An endpoint: the address, and ":port" for TCP and UDP (``port`` an exact int 0..65535, else 0). */
static int plain_port(PyObject *value, char text[8])
{
    if (!PyLong_CheckExact(value))
        return 0;
    long port = PyLong_AsLong(value);
    if (port == -1 && PyErr_Occurred())
        return -1;
    if (port < 0 || port > 0xFFFF)
        return 0;
    text[0] = ':';
    return 1 + put_decimal(text + 1, (unsigned long long)port);
}

/* add_flow(cid, first_us, last_us, src, sport, dst, dport, proto, label, event) -> bool: the flow's line
 * of truth/flows.csv as one block at ``first_us``, as testbed.truth.flow_log.flow_line makes it (its
 * reference). False, and nothing added, when the row is not the plain case (a field the csv module would
 * quote, a None, a time out of range...): the caller then adds the line it makes itself (add_raw). */
static PyObject *frame_log_add_flow(FrameLog *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (arity("add_flow", nargs, 10) < 0)
        return NULL;
    static const int text_args[6] = {0, 3, 5, 7, 8, 9}; /* cid, src, dst, proto, label, event */
    const char *field[6];
    Py_ssize_t length[6];
    for (int k = 0; k < 6; k++) {
        int plain = plain_field(args[text_args[k]], &field[k], &length[k]);
        if (plain <= 0)
            return plain < 0 ? NULL : Py_NewRef(Py_False);
    }
    long long first, last;
    char first_text[32], last_text[32], sport_text[8] = "", dport_text[8] = "";
    int first_n = plain_time(args[1], &first, first_text), last_n = first_n > 0 ? plain_time(args[2], &last, last_text) : 0;
    if (first_n <= 0 || last_n <= 0)
        return first_n < 0 || last_n < 0 ? NULL : Py_NewRef(Py_False);
    int sport_n = 0, dport_n = 0;
    if ((length[3] == 3 && (memcmp(field[3], "tcp", 3) == 0 || memcmp(field[3], "udp", 3) == 0))) {
        sport_n = plain_port(args[4], sport_text);
        dport_n = sport_n > 0 ? plain_port(args[6], dport_text) : 0;
        if (sport_n <= 0 || dport_n <= 0)
            return sport_n < 0 || dport_n < 0 ? NULL : Py_NewRef(Py_False);
    }
    Py_ssize_t size = length[0] + first_n + last_n + length[1] + sport_n + length[2] + dport_n + length[3] + length[4] +
                      length[5] + 8; /* seven commas and the line break */
    unsigned char *p = log_reserve(self, first, size);
    if (p == NULL)
        return NULL;
#define PUT(bytes, n) (memcpy(p, (bytes), (size_t)(n)), p += (n))
    PUT(field[0], length[0]);
    *p++ = ',';
    PUT(first_text, first_n);
    *p++ = ',';
    PUT(last_text, last_n);
    *p++ = ',';
    PUT(field[1], length[1]);
    PUT(sport_text, sport_n);
    *p++ = ',';
    PUT(field[2], length[2]);
    PUT(dport_text, dport_n);
    for (int k = 3; k < 6; k++) {
        *p++ = ',';
        PUT(field[k], length[k]);
    }
    *p++ = '\n';
#undef PUT
    Py_RETURN_TRUE;
}

/* add_spaced(t0_us, gap_us, frames, label): frames (bytes) captured at t0, t0 + gap, t0 + 2 gap...,
 * added as ``add`` adds (ts_us, frame) pairs; all or nothing. A sweep's requests, without a pair each. */
static PyObject *frame_log_add_spaced(FrameLog *self, PyObject *args)
{
    long long t0, gap;
    PyObject *frames, *label;
    const char *comment;
    Py_ssize_t comment_length;
    if (!PyArg_ParseTuple(args, "LLO!O:add_spaced", &t0, &gap, &PyList_Type, &frames, &label))
        return NULL;
    if (t0 < 0 || gap < 0) {
        PyErr_Format(PyExc_ValueError, "add_spaced: times are never negative, got t0 %lld and gap %lld", t0, gap);
        return NULL;
    }
    if (label_comment(label, &comment, &comment_length) < 0)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(frames);
    LogMark mark = log_mark(self);
    /* The borrowed frames stay valid throughout: nothing below runs Python code. */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *frame = PyList_GET_ITEM(frames, i);
        if (!PyBytes_Check(frame)) {
            PyErr_Format(PyExc_TypeError, "frame %zd: the frame must be bytes, not %.100s", i,
                         Py_TYPE(frame)->tp_name);
            return log_rollback(self, mark);
        }
        Record r = {.ts = t0 + i * gap, .frame = PyBytes_AS_STRING(frame), .length = PyBytes_GET_SIZE(frame),
                    .comment = comment, .comment_length = comment_length};
        if (log_append(self, &r, "frame", i) < 0)
            return log_rollback(self, mark);
    }
    Py_RETURN_NONE;
}

static PyTypeObject FrameLogType; /* defined below, with the log's methods */

/* ------------------------------------------------------------------ TCP segments */

/* The payload read as big-endian 16-bit words (an odd last byte padded with zero), summed: any value
 * congruent to that sum modulo 0xFFFF, which is all the checksums use. Four bytes at a time, which the
 * compiler vectorises (measured: 34 ns for a full segment's 1448 bytes, against 174 ns a byte at a
 * time). As 2^16 = 1 modulo 0xFFFF, a 32-bit word read in the host's order is congruent to the sum of
 * its two 16-bit words in that order, and a little-endian sum times 256 to the big-endian one. */
static uint64_t word_sum(const unsigned char *p, Py_ssize_t n)
{
    uint64_t sum = 0;
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t word;
        memcpy(&word, p + i, 4);
        sum += word;
    }
    sum = (sum & 0xFFFFFFFFu) + (sum >> 32); /* below 2^33 for any payload under 2^34 bytes */
#if PY_LITTLE_ENDIAN
    sum <<= 8;
#endif
    for (; i < n; i++) /* the last 0-3 bytes: a byte at an even offset is a word's high byte */
        sum += (uint64_t)p[i] << ((i & 1) ? 0 : 8);
    return sum;
}

/* Frames being made: their bytes back to back, each one's capture time and end, to become a list of
 * (ts_us, frame) pairs. Or, given a ``log``, each frame is made in place inside its block at the end of
 * the log, labelled ``comment`` (no copy, no Python object per frame). */
typedef struct {
    unsigned char *data;
    Py_ssize_t length, capacity;
    int64_t *times;
    Py_ssize_t *ends;
    Py_ssize_t count, slots, ends_slots;
    FrameLog *log;
    const char *comment; /* NULL: no comment option */
    Py_ssize_t comment_length;
} FrameBuf;

static void framebuf_free(FrameBuf *fb)
{
    PyMem_Free(fb->data);
    PyMem_Free(fb->times);
    PyMem_Free(fb->ends);
}

/* Room for one more frame of ``size`` bytes captured at ``t``: where to write it (valid until the next
 * call), or NULL with an error set. */
static unsigned char *framebuf_add(FrameBuf *fb, long long t, Py_ssize_t size)
{
    if (fb->log != NULL) {
        Record r = {.ts = t, .frame = NULL, .length = size, .comment = fb->comment,
                    .comment_length = fb->comment_length};
        Py_ssize_t block = checked_block_size(&r, "frame", fb->count);
        unsigned char *p = block < 0 ? NULL : log_reserve(fb->log, t, block);
        if (p == NULL)
            return NULL;
        write_block(p, &r, block, 0);
        fb->count++;
        return p + 28; /* the frame's place in its block */
    }
    if (grow((void **)&fb->data, &fb->capacity, fb->length + size, 1) < 0 ||
        grow((void **)&fb->times, &fb->slots, fb->count + 1, sizeof(int64_t)) < 0 ||
        grow((void **)&fb->ends, &fb->ends_slots, fb->count + 1, sizeof(Py_ssize_t)) < 0)
        return NULL;
    unsigned char *p = fb->data + fb->length;
    fb->length += size;
    fb->times[fb->count] = t;
    fb->ends[fb->count++] = fb->length;
    return p;
}

static inline Py_ssize_t framebuf_start(const FrameBuf *fb, Py_ssize_t i) { return i ? fb->ends[i - 1] : 0; }

/* The frames' indices sorted by time, stably (NULL and an error if out of memory). An insertion sort:
 * they come nearly in order (a burst's ACKs a few segments late), so it moves few. */
static Py_ssize_t *framebuf_order(const FrameBuf *fb)
{
    Py_ssize_t *order = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(fb->count ? fb->count : 1));
    if (order == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < fb->count; i++) {
        int64_t t = fb->times[i];
        Py_ssize_t j = i;
        for (; j > 0 && fb->times[order[j - 1]] > t; j--) /* strictly later ones only: ties keep their order */
            order[j] = order[j - 1];
        order[j] = i;
    }
    return order;
}

/* The frames as a list of (ts_us, frame) pairs, in ``order``. */
static PyObject *framebuf_list(const FrameBuf *fb, const Py_ssize_t *order)
{
    PyObject *out = PyList_New(fb->count);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < fb->count; k++) {
        Py_ssize_t i = order[k], start = framebuf_start(fb, i);
        PyObject *pair = Py_BuildValue("(Ly#)", (long long)fb->times[i], (const char *)fb->data + start,
                                       fb->ends[i] - start);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, pair);
    }
    return out;
}

static inline uint32_t ones_complement(uint64_t sum) { return MOD - (uint32_t)(sum % MOD); }

/* The bytes a send hands over, as the pieces they are in (a TLS stream's record headers and bodies, say),
 * and how far they have been read: no piece is copied together before its segments are made. */
typedef struct {
    Py_buffer *pieces;
    Py_ssize_t count, index, offset;
} Gather;

/* Copy the next ``n`` bytes of ``g`` (it holds them) to ``out``. */
static void gather_copy(Gather *g, unsigned char *out, Py_ssize_t n)
{
    while (n > 0) {
        const Py_buffer *piece = &g->pieces[g->index];
        Py_ssize_t left = piece->len - g->offset, take = left < n ? left : n;
        memcpy(out, (const unsigned char *)piece->buf + g->offset, (size_t)take);
        out += take;
        n -= take;
        g->offset += take;
        if (g->offset == piece->len) {
            g->index++;
            g->offset = 0;
        }
    }
}

/* A plain segment (no options) from a 54-byte template, the fields that vary patched in; its payload is the
 * next ``n`` bytes of ``payload`` (none if NULL). ``tcp_sum`` is the TCP checksum's sum without the payload:
 * the payload's is added from the frame, where it was just copied. */
static int put_segment(FrameBuf *fb, long long t, const unsigned char *template, uint32_t ip_id, uint32_t ip_sum,
                       uint32_t seq, uint32_t ack, uint32_t flags, uint64_t tcp_sum, Gather *payload, Py_ssize_t n)
{
    Py_ssize_t length = HEADERS + n < MIN_FRAME ? MIN_FRAME : HEADERS + n;
    unsigned char *p = framebuf_add(fb, t, length);
    if (p == NULL)
        return -1;
    if (n) {
        gather_copy(payload, p + HEADERS, n);
        tcp_sum += word_sum(p + HEADERS, n);
    }
    memcpy(p, template, HEADERS);
    put_be16(p + 16, (uint32_t)(40 + n)); /* IPv4 total length */
    put_be16(p + 18, ip_id);
    put_be16(p + 24, ip_sum);
    put_be32(p + 38, seq);
    put_be32(p + 42, ack);
    put_be16(p + 46, 5u << 12 | flags); /* data offset (5 words: no options) and flags */
    put_be16(p + 50, ones_complement(tcp_sum));
    put_be16(p + 52, 0); /* urgent pointer */
    memset(p + HEADERS + n, 0, (size_t)(length - HEADERS - n)); /* Ethernet padding of a short frame */
    return 0;
}

/* One direction of a connection: the headers all its plain segments share (TcpSession's ``_End``), and
 * what it has sent so far. */
typedef struct {
    unsigned char tpl[HEADERS]; /* a plain segment's headers, the fields that vary zero */
    uint64_t ip_base;           /* its IPv4 header's constant words, the 40-byte total length included */
    uint64_t tcp_base;          /* its pseudo-header's and TCP header's constant words, 20-byte length included */
    uint64_t addr_sum;          /* both addresses as 32-bit numbers, summed */
    uint64_t seq, ip_id;        /* the next sequence number and IP id it sends */
    long long cwnd;             /* its congestion window, in segments */
} Side;

/* A bulk send of the ``size`` bytes of ``bytes`` from ``snd``, with the receiver's delayed ACKs: slow start from the
 * sender's window, bursts of at most ``max_burst`` segments. Adds the frames to ``fb`` in the order
 * made; updates both sides; returns the time of the last ACK (``t_us`` when ``size`` is 0), or -1 with
 * an exception set. */
static long long bulk_send(FrameBuf *fb, Gather *bytes, Py_ssize_t size, long long mss,
                           long long max_burst, long long t_us, long long ack_delay, long long turnaround,
                           long long gap, Side *snd, Side *rcv)
{
    uint64_t seq = snd->seq, snd_id = snd->ip_id, rcv_seq = rcv->seq, rcv_id = rcv->ip_id;
    long long cwnd = snd->cwnd, t_burst = t_us, t_done = t_us;
    Py_ssize_t start = 0;
    while (start < size) {
        cwnd = cwnd < max_burst ? cwnd : max_burst;
        Py_ssize_t end = start + cwnd * mss < size ? start + cwnd * mss : size;
        int unacked = 0;
        long long t_seg = t_burst;
        for (Py_ssize_t offset = start; offset < end; offset += mss) {
            Py_ssize_t n = size - offset < mss ? size - offset : mss;
            int last = offset + mss >= size; /* PSH marks the end of what the application handed over */
            uint32_t flags = last ? (PSH_FLAG | ACK_FLAG) : ACK_FLAG;
            uint32_t ip_sum = ones_complement(snd->ip_base + (uint64_t)n + snd_id);
            uint64_t tcp_sum = snd->tcp_base + (uint64_t)n + seq + rcv_seq + flags; /* the payload's: added */
            if (put_segment(fb, t_seg, snd->tpl, (uint32_t)snd_id, ip_sum, (uint32_t)seq, (uint32_t)rcv_seq, flags,
                            tcp_sum, bytes, n) < 0)
                return -1;
            seq = (seq + (uint64_t)n) & 0xFFFFFFFFull;
            snd_id = (snd_id + 1) & 0xFFFFull;
            unacked++;
            if (unacked == 2 || offset + mss >= end) { /* delayed ACK: every second segment, the burst's last */
                t_done = t_seg + ack_delay;
                uint32_t a_ip_sum = ones_complement(rcv->ip_base + rcv_id);
                uint64_t a_tcp_sum = rcv->tcp_base + ACK_FLAG + rcv_seq + seq;
                if (put_segment(fb, t_done, rcv->tpl, (uint32_t)rcv_id, a_ip_sum, (uint32_t)rcv_seq, (uint32_t)seq,
                                ACK_FLAG, a_tcp_sum, NULL, 0) < 0)
                    return -1;
                rcv_id = (rcv_id + 1) & 0xFFFFull;
                unacked = 0;
            }
            t_seg += gap;
        }
        cwnd = 2 * cwnd < max_burst ? 2 * cwnd : max_burst;
        start = end;
        t_burst = t_done + turnaround;
    }
    snd->seq = seq;
    snd->ip_id = snd_id;
    snd->cwnd = cwnd;
    rcv->ip_id = rcv_id;
    return t_done;
}

static int check_mss(const char *who, long long mss)
{
    if (mss <= 0) {
        PyErr_Format(PyExc_ValueError, "%s: the MSS must be positive", who);
        return -1;
    }
    if (mss > 0xFFFF - 40) { /* an IPv4 packet's total length is 16 bits */
        PyErr_Format(PyExc_ValueError, "%s: an MSS of %lld does not fit an IPv4 packet", who, mss);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ whole TCP sessions */

#define SYN_FLAG 0x02u
#define FIN_FLAG 0x01u
#define MAX_OPTIONS 40

static uint64_t be32_at(const unsigned char *p)
{
    return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

/* A side from its addresses, as ``_End`` builds one; ``window`` is its scaled window. */
static void side_init(Side *s, const unsigned char *src_mac, const unsigned char *dst_mac,
                      const unsigned char *src_ip, const unsigned char *dst_ip, uint32_t sport, uint32_t dport,
                      uint32_t ttl, uint32_t window, uint64_t isn, long long cwnd)
{
    unsigned char *p = s->tpl;
    memset(p, 0, HEADERS);
    memcpy(p, dst_mac, 6);
    memcpy(p + 6, src_mac, 6);
    put_be16(p + 12, 0x0800); /* IPv4 */
    p[14] = 0x45;
    put_be16(p + 20, 0x4000); /* don't fragment */
    p[22] = (unsigned char)ttl;
    p[23] = 6; /* TCP */
    memcpy(p + 26, src_ip, 4);
    memcpy(p + 30, dst_ip, 4);
    put_be16(p + 34, sport);
    put_be16(p + 36, dport);
    put_be16(p + 48, window);
    s->addr_sum = be32_at(src_ip) + be32_at(dst_ip);
    s->ip_base = 0x4500u + 0x4000u + (ttl << 8 | 6u) + s->addr_sum + 40;
    s->tcp_base = s->addr_sum + 6u + sport + dport + window + (5u << 12) + 20;
    s->seq = isn & 0xFFFFFFFFull;
    s->ip_id = isn >> 16 & 0xFFFFull; /* Linux keeps an IP id per connection; TcpSession starts it so */
    s->cwnd = cwnd;
}

/* One segment without payload from ``snd`` (``_emit``): acknowledging ``rcv``'s next byte if ACK is set;
 * SYNs carry ``options`` and advertise ``syn_window``. */
static int control(FrameBuf *fb, long long t, Side *snd, const Side *rcv, uint32_t flags, uint32_t syn_window,
                   const unsigned char *options, Py_ssize_t optlen)
{
    uint32_t seq = (uint32_t)snd->seq, ack = flags & ACK_FLAG ? (uint32_t)rcv->seq : 0;
    uint32_t ip_id = (uint32_t)snd->ip_id;
    if (flags & SYN_FLAG) {
        Py_ssize_t padded = (optlen + 3) & ~(Py_ssize_t)3, tcp_len = 20 + padded;
        Py_ssize_t length = 34 + tcp_len < MIN_FRAME ? MIN_FRAME : 34 + tcp_len;
        unsigned char *p = framebuf_add(fb, t, length);
        if (p == NULL)
            return -1;
        memset(p, 0, (size_t)length);
        memcpy(p, snd->tpl, HEADERS);
        memcpy(p + HEADERS, options, (size_t)optlen); /* padded with end-of-list (zero) bytes */
        put_be16(p + 16, (uint32_t)(20 + tcp_len));
        put_be16(p + 18, ip_id);
        put_be32(p + 38, seq);
        put_be32(p + 42, ack);
        put_be16(p + 46, (uint32_t)(tcp_len / 4) << 12 | flags);
        put_be16(p + 48, syn_window);
        /* Summed from the bytes, checksum fields still zero: congruent to the sums ``tcp_frame`` adds up. */
        put_be16(p + 24, ones_complement(word_sum(p + 14, 20)));
        put_be16(p + 50, ones_complement(snd->addr_sum + 6u + (uint64_t)tcp_len + word_sum(p + 34, tcp_len)));
    } else {
        uint32_t ip_sum = ones_complement(snd->ip_base + ip_id);
        uint64_t tcp_sum = snd->tcp_base + seq + ack + flags;
        if (put_segment(fb, t, snd->tpl, ip_id, ip_sum, seq, ack, flags, tcp_sum, NULL, 0) < 0)
            return -1;
    }
    snd->ip_id = (snd->ip_id + 1) & 0xFFFFull;
    snd->seq = (snd->seq + (flags & (SYN_FLAG | FIN_FLAG) ? 1u : 0u)) & 0xFFFFFFFFull;
    return 0;
}

/* One send of tcp_session's ``sends``: who sends, after what delay, and its bytes in their pieces. */
typedef struct {
    int from_client;
    long long delay;
    Gather data;
    Py_ssize_t size;
} Send;

static void sends_release(Send *sends, Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++) {
        for (Py_ssize_t k = 0; k < sends[i].data.count; k++)
            PyBuffer_Release(&sends[i].data.pieces[k]);
        PyMem_Free(sends[i].data.pieces);
    }
    PyMem_Free(sends);
}

/* Send ``i``'s bytes: one bytes-like object, or a list or tuple of them (their concatenation). */
static int send_pieces(PyObject *data, Py_ssize_t i, Send *out)
{
    int gathered = PyList_Check(data) || PyTuple_Check(data);
    PyObject *items = gathered ? PySequence_Tuple(data) : NULL; /* a list could change under us: a copy */
    if (gathered && items == NULL)
        return -1;
    Py_ssize_t count = gathered ? PyTuple_GET_SIZE(items) : 1;
    out->data = (Gather){PyMem_Calloc((size_t)(count ? count : 1), sizeof(Py_buffer)), 0, 0, 0};
    out->size = 0;
    int rc = 0;
    if (out->data.pieces == NULL) {
        PyErr_NoMemory();
        rc = -1;
    }
    for (Py_ssize_t k = 0; rc == 0 && k < count; k++) {
        PyObject *piece = gathered ? PyTuple_GET_ITEM(items, k) : data;
        if (PyObject_GetBuffer(piece, &out->data.pieces[k], PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "tcp_session: send %zd: the data must be bytes-like or a list of bytes-like "
                         "pieces, not %.100s", i, Py_TYPE(piece)->tp_name);
            rc = -1;
            break;
        }
        out->data.count++;
        out->size += out->data.pieces[k].len;
    }
    Py_XDECREF(items);
    return rc;
}

/* tcp_session's ``sends`` read, and their buffers held, before any frame is made: from then on no Python
 * code runs (it could touch the log being written). NULL with an error set (nothing held) if one is bad. */
static Send *read_sends(PyObject *list, Py_ssize_t *count)
{
    PyObject *items = PySequence_Tuple(list); /* owned references to each send */
    if (items == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items), made = 0;
    Send *sends = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Send));
    if (sends == NULL) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return NULL;
    }
    for (; made < n; made++) {
        PyObject *send = PyTuple_GET_ITEM(items, made), *data;
        Send *out = &sends[made];
        if (!PyTuple_Check(send) || !PyArg_ParseTuple(send, "pOL", &out->from_client, &data, &out->delay)) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "tcp_session: send %zd: expected (from_client, data, delay_us)", made);
            }
            break;
        }
        if (out->delay < 0) {
            PyErr_Format(PyExc_ValueError, "tcp_session: send %zd: the RTT and the delays are never negative", made);
            break;
        }
        if (send_pieces(data, made, out) < 0) {
            made++; /* its pieces held so far are released below */
            break;
        }
    }
    Py_DECREF(items);
    if (PyErr_Occurred()) {
        sends_release(sends, made);
        return NULL;
    }
    *count = n;
    return sends;
}

/* tcp_session(client, server, windows, timing, syn_options, t_us, rtt_us, sends, close_delay_us,
 *             close_by_server[, log, label]) -> (frames, t_done)
 * What TcpSession makes of a handshake at ``t_us``, then each (from_client, data, delay_us) send begun
 * ``delay_us`` after the previous exchange ended, then a close ``close_delay_us`` after the last one,
 * sorted by time (stably: the order TcpSession gives them). ``data`` is bytes-like, or a list or tuple of
 * bytes-like pieces sent as their concatenation (a TLS stream's records, not joined first). ``client`` and ``server`` are
 * (mac, ip, port, isn, ttl); ``windows`` (mss, client SYN window, client window, server SYN window,
 * server window, window scale); ``timing`` (host delay, segment gap, initial cwnd), all in microseconds.
 * Given a FrameLog, the frames are made in their blocks at its end, labelled ``label``, and the list is
 * empty; on an error the log is as it was. */
static PyObject *tcp_session(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer c_mac, c_ip, s_mac, s_ip, opts;
    unsigned int c_port, s_port, c_ttl, s_ttl;
    unsigned long long c_isn, s_isn;
    long long mss, c_syn_window, c_window, s_syn_window, s_window, wscale, host_delay, gap, initial_cwnd;
    long long t_us, rtt, close_delay;
    PyObject *sends, *log = Py_None, *label = Py_None;
    int close_by_server;
    if (!PyArg_ParseTuple(args, "(y*y*IKI)(y*y*IKI)(LLLLLL)(LLL)y*LLO!Lp|OO:tcp_session", &c_mac, &c_ip, &c_port,
                          &c_isn, &c_ttl, &s_mac, &s_ip, &s_port, &s_isn, &s_ttl, &mss, &c_syn_window, &c_window,
                          &s_syn_window, &s_window, &wscale, &host_delay, &gap, &initial_cwnd, &opts, &t_us, &rtt,
                          &PyList_Type, &sends, &close_delay, &close_by_server, &log, &label))
        return NULL;
    PyObject *result = NULL;
    FrameBuf fb = {0};
    Py_ssize_t *order = NULL, count = 0;
    Send *spec = NULL;
    LogMark mark = {0};
    if (c_mac.len != 6 || s_mac.len != 6 || c_ip.len != 4 || s_ip.len != 4) {
        PyErr_SetString(PyExc_ValueError, "tcp_session: a MAC has 6 bytes and an IPv4 address 4");
        goto done;
    }
    if (c_port > 0xFFFF || s_port > 0xFFFF || c_ttl > 0xFF || s_ttl > 0xFF || c_window > 0xFFFF ||
        s_window > 0xFFFF || c_syn_window > 0xFFFF || s_syn_window > 0xFFFF || c_window < 0 || s_window < 0 ||
        c_syn_window < 0 || s_syn_window < 0 || wscale < 0 || wscale > 14 || initial_cwnd <= 0) {
        PyErr_SetString(PyExc_ValueError, "tcp_session: a port, TTL, window, scale or cwnd is out of range");
        goto done;
    }
    if (check_mss("tcp_session", mss) < 0)
        goto done;
    if (rtt < 0 || close_delay < 0) {
        PyErr_SetString(PyExc_ValueError, "tcp_session: the RTT and the delays are never negative");
        goto done;
    }
    if (opts.len > MAX_OPTIONS) {
        PyErr_Format(PyExc_ValueError, "tcp_session: TCP options take at most %d bytes", MAX_OPTIONS);
        goto done;
    }
    if (log != Py_None && !PyObject_TypeCheck(log, &FrameLogType)) {
        PyErr_Format(PyExc_TypeError, "tcp_session: the log must be a FrameLog, not %.100s", Py_TYPE(log)->tp_name);
        goto done;
    }
    const char *comment;
    Py_ssize_t comment_length;
    if (label_comment(label, &comment, &comment_length) < 0) /* checked before any frame is made */
        goto done;
    spec = read_sends(sends, &count);
    if (spec == NULL)
        goto done;
    if (log != Py_None) {
        fb.log = (FrameLog *)log;
        fb.comment = comment;
        fb.comment_length = comment_length;
        mark = log_mark(fb.log);
    }
    Side client, server;
    side_init(&client, c_mac.buf, s_mac.buf, c_ip.buf, s_ip.buf, c_port, s_port, c_ttl, (uint32_t)c_window,
              c_isn, initial_cwnd);
    side_init(&server, s_mac.buf, c_mac.buf, s_ip.buf, c_ip.buf, s_port, c_port, s_ttl, (uint32_t)s_window,
              s_isn, initial_cwnd);
    /* The handshake: SYN, SYN/ACK one RTT later, the client's ACK a host delay after that. */
    if (control(&fb, t_us, &client, &server, SYN_FLAG, (uint32_t)c_syn_window, opts.buf, opts.len) < 0 ||
        control(&fb, t_us + rtt, &server, &client, SYN_FLAG | ACK_FLAG, (uint32_t)s_syn_window, opts.buf,
                opts.len) < 0 ||
        control(&fb, t_us + rtt + host_delay, &client, &server, ACK_FLAG, 0, NULL, 0) < 0)
        goto done;
    long long t = t_us + rtt + host_delay;
    for (Py_ssize_t i = 0; i < count; i++) {
        int from_client = spec[i].from_client;
        Side *snd = from_client ? &client : &server, *rcv = from_client ? &server : &client;
        /* As TcpSession._send: a client segment's ACK is seen one RTT later, a server one's a host delay
         * later; between bursts the server waits an RTT for the ACK, the client a host delay. Bursts stay
         * strictly below the receiver's window. */
        long long receive_window = (from_client ? s_window : c_window) << wscale;
        long long max_burst = (receive_window - 1) / mss > 1 ? (receive_window - 1) / mss : 1;
        long long t_done = bulk_send(&fb, &spec[i].data, spec[i].size, mss, max_burst, t + spec[i].delay,
                                     from_client ? rtt : host_delay, from_client ? host_delay : rtt, gap, snd,
                                     rcv);
        if (t_done < 0 && PyErr_Occurred())
            goto done;
        t = t_done;
    }
    /* The close: FIN/ACK from one side, the peer's FIN/ACK, the last ACK. */
    t += close_delay;
    Side *first = close_by_server ? &server : &client, *second = close_by_server ? &client : &server;
    long long answer = close_by_server ? host_delay : rtt, last = close_by_server ? rtt : host_delay;
    if (control(&fb, t, first, second, FIN_FLAG | ACK_FLAG, 0, NULL, 0) < 0 ||
        control(&fb, t + answer, second, first, FIN_FLAG | ACK_FLAG, 0, NULL, 0) < 0 ||
        control(&fb, t + answer + last, first, second, ACK_FLAG, 0, NULL, 0) < 0)
        goto done;
    if (log == Py_None) {
        order = framebuf_order(&fb);
        PyObject *frames = order != NULL ? framebuf_list(&fb, order) : NULL;
        if (frames != NULL)
            result = Py_BuildValue("(NL)", frames, t + answer + last);
    } else {
        result = Py_BuildValue("([]L)", t + answer + last);
    }
done:
    if (result == NULL && fb.log != NULL)
        log_rollback(fb.log, mark);
    if (spec != NULL)
        sends_release(spec, count);
    PyMem_Free(order);
    framebuf_free(&fb);
    PyBuffer_Release(&c_mac);
    PyBuffer_Release(&c_ip);
    PyBuffer_Release(&s_mac);
    PyBuffer_Release(&s_ip);
    PyBuffer_Release(&opts);
    return result;
}

/* ------------------------------------------------------------------ merging frames by capture time */

/* A block to copy out, and its frame's capture time. */
typedef struct {
    int64_t t;
    const unsigned char *block;
    Py_ssize_t size;
} Item;

/* Items in capture order (a log's ready frames, an encoded part), and the next one to copy out. */
typedef struct {
    Item *items;
    Py_ssize_t count, next;
} Source;

/* Sources by (time of their next item, source index): ties go in source order. */
static inline int source_before(const Source *src, Py_ssize_t a, Py_ssize_t b)
{
    int64_t ta = src[a].items[src[a].next].t, tb = src[b].items[src[b].next].t;
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(Py_ssize_t *heap, Py_ssize_t size, const Source *src, Py_ssize_t i)
{
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < size && source_before(src, heap[l], heap[m]))
            m = l;
        if (r < size && source_before(src, heap[r], heap[m]))
            m = r;
        if (m == i)
            return;
        Py_ssize_t tmp = heap[i];
        heap[i] = heap[m];
        heap[m] = tmp;
        i = m;
    }
}

/* Copy the ``k`` sources' items into ``o`` (sized for all of them) merged by capture time, ties in source
 * order: a heap of sources, each giving the run of its items that go before every other source's next. */
/* ------------------------------------------------------------------ writing into a sink's buffers */

/* Hand the bytes put into the held room over (``sink.staged(n)``) and let the room go. */
static int sink_hand_over(Output *o)
{
    if (o->room.obj == NULL)
        return 0;
    PyBuffer_Release(&o->room);
    PyObject *r = PyObject_CallMethod(o->sink, "staged", "n", o->used);
    o->used = 0;
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Copy ``size`` bytes into the sink's staging room, asking for more room (``sink.staging()``, a writable
 * buffer) whenever it is full: a block may be split across two buffers, the file is a stream. */
static int sink_put(Output *o, const unsigned char *block, Py_ssize_t size)
{
    while (size > 0) {
        if (o->room.obj != NULL && o->used == o->room.len && sink_hand_over(o) < 0)
            return -1;
        if (o->room.obj == NULL) {
            PyObject *view = PyObject_CallMethod(o->sink, "staging", NULL);
            if (view == NULL)
                return -1;
            int rc = PyObject_GetBuffer(view, &o->room, PyBUF_WRITABLE);
            Py_DECREF(view);
            if (rc < 0)
                return -1;
            if (o->room.len <= 0) {
                PyBuffer_Release(&o->room);
                PyErr_SetString(PyExc_ValueError, "take_merged_into: the sink's staging() gave no room");
                return -1;
            }
            o->used = 0;
        }
        Py_ssize_t take = o->room.len - o->used < size ? o->room.len - o->used : size;
        memcpy((unsigned char *)o->room.buf + o->used, block, (size_t)take);
        o->used += take;
        block += take;
        size -= take;
    }
    return 0;
}

static int merge_sources(Source *src, Py_ssize_t k, Output *o)
{
    Py_ssize_t *heap = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(k ? k : 1));
    if (heap == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t size = 0, written = 0, offset = 0;
    for (Py_ssize_t i = 0; i < k; i++)
        if (src[i].count)
            heap[size++] = i;
    for (Py_ssize_t i = size / 2 - 1; i >= 0; i--) /* heapify: sift each inner node down */
        sift_down(heap, size, src, i);
    while (size) {
        Py_ssize_t top = heap[0];
        Source *s = &src[top];
        Py_ssize_t stop = s->count;
        if (size > 1) {
            Py_ssize_t rival = heap[1];
            if (size > 2 && source_before(src, heap[2], rival))
                rival = heap[2];
            int64_t limit = src[rival].items[src[rival].next].t;
            stop = s->next + 1;
            while (stop < s->count && (s->items[stop].t < limit || (s->items[stop].t == limit && top < rival)))
                stop++;
        }
        for (Py_ssize_t i = s->next; i < stop; i++) {
            const Item *it = &s->items[i];
            if (o->sink != NULL) {
                if (sink_put(o, it->block, it->size) < 0) {
                    PyMem_Free(heap);
                    return -1;
                }
                continue;
            }
            memcpy(o->out + offset, it->block, (size_t)it->size);
            offset += it->size;
            o->tp[written] = it->t;
            o->ep[written++] = (uint64_t)offset;
        }
        s->next = stop;
        if (stop == s->count)
            heap[0] = heap[--size];
        sift_down(heap, size, src, 0);
    }
    PyMem_Free(heap);
    return 0;
}

/* ------------------------------------------------------------------ handing a log's frames over */

static int by_time_then_arrival(const void *a, const void *b)
{
    const Pending *x = *(const Pending *const *)a, *y = *(const Pending *const *)b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* The log's pending frames before ``until`` (all if ``final``), sorted by (time, arrival), as a source;
 * their blocks' total size in ``*total``. -1 (an error set) if out of memory. The log is not changed:
 * ``keep_the_rest`` drops these frames once they are copied out. */
static int ready_frames(FrameLog *self, long long until, int final, Source *out, Py_ssize_t *total)
{
    size_t slots = (size_t)(self->count ? self->count : 1);
    Pending **ready = PyMem_Malloc(sizeof(Pending *) * slots);
    Item *items = PyMem_Malloc(sizeof(Item) * slots);
    if (ready == NULL || items == NULL) {
        PyMem_Free(ready);
        PyMem_Free(items);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t n = 0;
    *total = 0;
    for (Py_ssize_t i = 0; i < self->count; i++) {
        if (final || self->pending[i].t < until) {
            ready[n++] = &self->pending[i];
            *total += self->pending[i].size;
        }
    }
    qsort(ready, (size_t)n, sizeof(Pending *), by_time_then_arrival); /* pointers: cheaper to move */
    for (Py_ssize_t i = 0; i < n; i++)
        items[i] = (Item){ready[i]->t, self->blob + ready[i]->offset, ready[i]->size};
    PyMem_Free(ready);
    *out = (Source){items, n, 0};
    return 0;
}

/* Drop the frames ``ready_frames`` gave: the rest stay, in arrival order, at the front of the buffers
 * (blocks only ever move left). */
static void keep_the_rest(FrameLog *self, long long until, int final)
{
    Py_ssize_t kept = 0, length = 0;
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Pending p = self->pending[i];
        if (final || p.t < until)
            continue;
        memmove(self->blob + length, self->blob + p.offset, (size_t)p.size);
        p.offset = length;
        length += p.size;
        self->pending[kept++] = p;
    }
    self->count = kept;
    self->length = length;
}

/* The frames before ``until`` (all if ``final``) of every log in ``logs`` (FrameLogs, checked by the
 * caller), merged by capture time, ties in log order then arrival order: as (times, ends, blob), or,
 * given a ``sink``, copied into its staging buffers and counted, (frames, bytes). On an error no log is
 * changed. */
static PyObject *take_from(FrameLog **logs, Py_ssize_t k, long long until, int final, PyObject *sink)
{
    Py_ssize_t frames = 0, total = 0;
    Source *src = PyMem_Calloc((size_t)(k ? k : 1), sizeof(Source));
    PyObject *result = NULL;
    Output o = {.sink = sink};
    if (src == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < k; i++) {
        Py_ssize_t size;
        if (ready_frames(logs[i], until, final, &src[i], &size) < 0)
            goto done;
        frames += src[i].count;
        total += size;
    }
    if (sink == NULL && output_new(&o, frames, total) < 0)
        goto done;
    if (merge_sources(src, k, &o) < 0 || (sink != NULL && sink_hand_over(&o) < 0)) {
        if (o.room.obj != NULL)
            PyBuffer_Release(&o.room);
        output_drop(&o);
        goto done;
    }
    for (Py_ssize_t i = 0; i < k; i++)
        keep_the_rest(logs[i], until, final);
    result = sink == NULL ? output_result(&o) : Py_BuildValue("(nn)", frames, total);

done:
    for (Py_ssize_t i = 0; i < k; i++) /* zeroed by calloc where not made */
        PyMem_Free(src[i].items);
    PyMem_Free(src);
    return result;
}

/* take(until_us, final) -> (times, ends, blob): the frames before ``until_us`` (all if ``final``) in
 * capture order, ties in arrival order (a stable sort by time); the others stay. */
static PyObject *frame_log_take(FrameLog *self, PyObject *args)
{
    long long until;
    int final;
    if (!PyArg_ParseTuple(args, "Lp:take", &until, &final))
        return NULL;
    return take_from(&self, 1, until, final, NULL);
}

static Py_ssize_t frame_log_len(FrameLog *self) { return self->count; }

static PyMethodDef frame_log_methods[] = {
    {"add", (PyCFunction)frame_log_add, METH_VARARGS,
     "add(frames, label): a step's (ts_us, frame) pairs, encoded as pcapng blocks labelled label."},
    {"add_spaced", (PyCFunction)frame_log_add_spaced, METH_VARARGS,
     "add_spaced(t0_us, gap_us, frames, label): frames captured every gap_us from t0_us, added as add adds them."},
    {"add_raw", (PyCFunction)frame_log_add_raw, METH_VARARGS,
     "add_raw(t_us, data): data (bytes-like) as one block at t_us, as it is."},
    {"add_flow", (PyCFunction)(void (*)(void))frame_log_add_flow, METH_FASTCALL,
     "add_flow(cid, first_us, last_us, src, sport, dst, dport, proto, label, event) -> bool: the flow's "
     "truth/flows.csv line as a block at first_us; False (nothing added) when the row is not plain."},
    {"take", (PyCFunction)frame_log_take, METH_VARARGS,
     "take(until_us, final) -> (times, ends, blob): the frames before until_us (all if final), in capture order."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods frame_log_sequence = {.sq_length = (lenfunc)frame_log_len};

static PyTypeObject FrameLogType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "testbed.packets._speedups.FrameLog",
    .tp_doc = "A household's frames not yet handed over, kept as pcapng blocks (no Python object per frame).",
    .tp_basicsize = sizeof(FrameLog),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)frame_log_dealloc,
    .tp_methods = frame_log_methods,
    .tp_as_sequence = &frame_log_sequence,
};

/* ------------------------------------------------------------------ merging encoded parts */

/* merge_encoded(parts) -> (times, ends, blob): parts of (times, ends, blob), each in capture order,
 * merged by capture time; equal times keep the order of ``parts`` (as a stable sort would). */
static PyObject *merge_encoded(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O!:merge_encoded", &PyList_Type, &list))
        return NULL;
    Py_ssize_t k = PyList_GET_SIZE(list), held = 0, frames = 0, total = 0;
    Py_buffer *views = PyMem_Calloc((size_t)(k ? k : 1) * 3, sizeof(Py_buffer)); /* times, ends, blob */
    Source *src = PyMem_Calloc((size_t)(k ? k : 1), sizeof(Source));
    PyObject *result = NULL;
    Output o = {0};
    if (views == NULL || src == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t p = 0; p < k; p++) {
        PyObject *item = PyList_GET_ITEM(list, p);
        Py_buffer *v = &views[3 * p];
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_Format(PyExc_TypeError, "part %zd: expected a (times, ends, blob) tuple", p);
            goto done;
        }
        for (; held < 3 * p + 3; held++) /* ``held`` buffers of ``views`` are held: released below */
            if (PyObject_GetBuffer(PyTuple_GET_ITEM(item, held - 3 * p), &views[held], PyBUF_SIMPLE) < 0)
                goto done;
        Py_ssize_t count = v[0].len / (Py_ssize_t)sizeof(int64_t);
        const int64_t *times = v[0].buf;
        const uint64_t *ends = v[1].buf;
        uint64_t last = count ? ends[count - 1] : 0;
        if (v[0].len % 8 || v[1].len != v[0].len || (Py_ssize_t)last != v[2].len) {
            PyErr_Format(PyExc_ValueError, "part %zd: times, ends and blob do not agree", p);
            goto done;
        }
        Item *items = PyMem_Malloc(sizeof(Item) * (size_t)(count ? count : 1));
        if (items == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            uint64_t start = i ? ends[i - 1] : 0;
            items[i] = (Item){times[i], (const unsigned char *)v[2].buf + start, (Py_ssize_t)(ends[i] - start)};
        }
        src[p] = (Source){items, count, 0};
        frames += count;
        total += v[2].len;
    }
    if (output_new(&o, frames, total) < 0)
        goto done;
    if (merge_sources(src, k, &o) < 0) {
        output_drop(&o);
        goto done;
    }
    result = output_result(&o);

done:
    for (Py_ssize_t i = 0; i < held; i++)
        PyBuffer_Release(&views[i]);
    for (Py_ssize_t i = 0; src != NULL && i < k; i++)
        PyMem_Free(src[i].items);
    PyMem_Free(views);
    PyMem_Free(src);
    return result;
}

/* take_merged(logs, until_us, final) -> (times, ends, blob): what ``take`` gives of each log, merged by
 * capture time with ties in the order of ``logs``, copied straight from the logs into one output (the
 * same bytes as merge_encoded over the logs' takes, with one copy of every block instead of two). On an
 * error no log is changed. */
/* The logs of a list, checked to be FrameLogs, as a new tuple (held while Python code may run). */
static PyObject *frame_logs(PyObject *list)
{
    Py_ssize_t k = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < k; i++) {
        if (!PyObject_TypeCheck(PyList_GET_ITEM(list, i), &FrameLogType)) {
            PyErr_Format(PyExc_TypeError, "log %zd: expected a FrameLog", i);
            return NULL;
        }
    }
    return PyList_AsTuple(list);
}

static PyObject *take_merged(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *list;
    long long until;
    int final;
    if (!PyArg_ParseTuple(args, "O!Lp:take_merged", &PyList_Type, &list, &until, &final))
        return NULL;
    PyObject *logs = frame_logs(list);
    if (logs == NULL)
        return NULL;
    PyObject *result = take_from((FrameLog **)PySequence_Fast_ITEMS(logs), PyTuple_GET_SIZE(logs), until, final,
                                 NULL);
    Py_DECREF(logs);
    return result;
}

/* take_merged_into(logs, until_us, final, sink) -> (frames, bytes): what take_merged gives, copied
 * straight into ``sink``'s staging buffers (``sink.staging()`` gives writable room, ``sink.staged(n)``
 * is told how much was put there), which saves copying a window's blocks once more. */
static PyObject *take_merged_into(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *list, *sink;
    long long until;
    int final;
    if (!PyArg_ParseTuple(args, "O!LpO:take_merged_into", &PyList_Type, &list, &until, &final, &sink))
        return NULL;
    PyObject *logs = frame_logs(list);
    if (logs == NULL)
        return NULL;
    Py_INCREF(sink);
    PyObject *result = take_from((FrameLog **)PySequence_Fast_ITEMS(logs), PyTuple_GET_SIZE(logs), until, final,
                                 sink);
    Py_DECREF(sink);
    Py_DECREF(logs);
    return result;
}

/* ------------------------------------------------------------------ UDP datagrams and ICMP echoes */

/* Both ends of a datagram, read from the first four arguments (MACs of 6 bytes, addresses of 4). */
typedef struct {
    unsigned char src_mac[6], dst_mac[6], src_ip[4], dst_ip[4];
} Ends;

static int exact_bytes(PyObject *obj, Py_ssize_t size, const char *who, const char *what, unsigned char *out)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return -1;
    int ok = view.len == size;
    if (ok)
        memcpy(out, view.buf, (size_t)size);
    else
        PyErr_Format(PyExc_ValueError, "%s: %s has %zd bytes, not %zd", who, what, view.len, size);
    PyBuffer_Release(&view);
    return ok ? 0 : -1;
}

static int read_ends(PyObject *const *args, const char *who, Ends *e)
{
    return exact_bytes(args[0], 6, who, "the source MAC", e->src_mac) < 0 ||
                   exact_bytes(args[1], 6, who, "the destination MAC", e->dst_mac) < 0 ||
                   exact_bytes(args[2], 4, who, "the source address", e->src_ip) < 0 ||
                   exact_bytes(args[3], 4, who, "the destination address", e->dst_ip) < 0
               ? -1
               : 0;
}

static int bounded(PyObject *obj, unsigned long high, const char *who, const char *what, unsigned long *out)
{
    unsigned long v = PyLong_AsUnsignedLong(obj);
    if (v == (unsigned long)-1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: %s must be in 0..%lu", who, what, high);
        }
        return -1;
    }
    if (v > high) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be in 0..%lu, got %lu", who, what, high, v);
        return -1;
    }
    *out = v;
    return 0;
}

/* A frame of Ethernet and IPv4 headers around an 8-byte header and ``n`` payload bytes, for the caller
 * to fill at ``*l4``, padded to the Ethernet minimum. NULL with an error if the packet does not fit. */
static PyObject *ipv4_frame(const Ends *e, const char *who, uint32_t proto, unsigned long ttl, unsigned long ip_id,
                            uint32_t frag, Py_ssize_t n, unsigned char **l4)
{
    Py_ssize_t l4_len = 8 + n, total = 20 + l4_len;
    if (total > 0xFFFF) {
        PyErr_Format(PyExc_ValueError, "%s: a payload of %zd bytes does not fit an IPv4 packet", who, n);
        return NULL;
    }
    Py_ssize_t length = 14 + total < MIN_FRAME ? MIN_FRAME : 14 + total;
    PyObject *frame = PyBytes_FromStringAndSize(NULL, length);
    if (frame == NULL)
        return NULL;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(frame);
    memcpy(p, e->dst_mac, 6);
    memcpy(p + 6, e->src_mac, 6);
    put_be16(p + 12, 0x0800); /* IPv4 */
    p[14] = 0x45;
    p[15] = 0;
    put_be16(p + 16, (uint32_t)total);
    put_be16(p + 18, (uint32_t)ip_id);
    put_be16(p + 20, frag);
    p[22] = (unsigned char)ttl;
    p[23] = (unsigned char)proto;
    put_be16(p + 24, ones_complement(0x4500u + (uint64_t)total + ip_id + frag + (ttl << 8 | proto) +
                                     be32_at(e->src_ip) + be32_at(e->dst_ip)));
    memcpy(p + 26, e->src_ip, 4);
    memcpy(p + 30, e->dst_ip, 4);
    memset(p + 34 + l4_len, 0, (size_t)(length - 34 - l4_len)); /* Ethernet padding of a short frame */
    *l4 = p + 34;
    return frame;
}

/* ``ipv4_frame`` around ``payload_obj``'s bytes, copied after the 8-byte header the caller fills at
 * ``*l4`` (DF set if ``df_obj`` is true); the payload's length in ``*n`` and its word sum in ``*sum``. */
static PyObject *ipv4_frame_with_payload(const Ends *e, const char *who, uint32_t proto, unsigned long ttl,
                                         unsigned long ip_id, PyObject *df_obj, PyObject *payload_obj,
                                         unsigned char **l4, Py_ssize_t *n, uint64_t *sum)
{
    int df = PyObject_IsTrue(df_obj);
    if (df < 0)
        return NULL;
    Py_buffer payload;
    if (PyObject_GetBuffer(payload_obj, &payload, PyBUF_SIMPLE) < 0)
        return NULL;
    *n = payload.len;
    PyObject *frame = ipv4_frame(e, who, proto, ttl, ip_id, df ? 0x4000u : 0u, payload.len, l4);
    if (frame != NULL) {
        *sum = word_sum(payload.buf, payload.len);
        memcpy(*l4 + 8, payload.buf, (size_t)payload.len);
    }
    PyBuffer_Release(&payload);
    return frame;
}

/* udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, ttl, ip_id, df) -> bytes: what
 * ``testbed.packets.ip.udp_frame`` (its reference) makes: a UDP datagram with both checksums, in IPv4
 * (DF as asked), in Ethernet. */
static PyObject *udp_frame(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (arity("udp_frame", nargs, 10) < 0)
        return NULL;
    Ends e;
    unsigned long sport, dport, ttl, ip_id;
    if (read_ends(args, "udp_frame", &e) < 0 || bounded(args[4], 0xFFFF, "udp_frame", "the source port", &sport) < 0 ||
        bounded(args[5], 0xFFFF, "udp_frame", "the destination port", &dport) < 0 ||
        bounded(args[7], 0xFF, "udp_frame", "the TTL", &ttl) < 0 ||
        bounded(args[8], 0xFFFF, "udp_frame", "the IP id", &ip_id) < 0)
        return NULL;
    unsigned char *p;
    Py_ssize_t n;
    uint64_t sum;
    PyObject *frame = ipv4_frame_with_payload(&e, "udp_frame", 17, ttl, ip_id, args[9], args[6], &p, &n, &sum);
    if (frame != NULL) {
        uint64_t udp_len = 8 + (uint64_t)n;
        put_be16(p, (uint32_t)sport);
        put_be16(p + 2, (uint32_t)dport);
        put_be16(p + 4, (uint32_t)udp_len);
        /* The pseudo-header (addresses, protocol, length), the header (the length again), the payload. */
        put_be16(p + 6, ones_complement(be32_at(e.src_ip) + be32_at(e.dst_ip) + 17u + 2 * udp_len + sport + dport + sum));
    }
    return frame;
}

/* icmp_echo(src_mac, dst_mac, src_ip, dst_ip, ident, seq, payload, reply, ttl, ip_id, df) -> bytes: what
 * ``testbed.packets.ip.icmp_echo`` (its reference) makes, ``df`` already decided. */
static PyObject *icmp_echo(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (arity("icmp_echo", nargs, 11) < 0)
        return NULL;
    Ends e;
    unsigned long ident, seq, ttl, ip_id;
    if (read_ends(args, "icmp_echo", &e) < 0 ||
        bounded(args[4], 0xFFFF, "icmp_echo", "the identifier", &ident) < 0 ||
        bounded(args[5], 0xFFFF, "icmp_echo", "the sequence number", &seq) < 0 ||
        bounded(args[8], 0xFF, "icmp_echo", "the TTL", &ttl) < 0 ||
        bounded(args[9], 0xFFFF, "icmp_echo", "the IP id", &ip_id) < 0)
        return NULL;
    int reply = PyObject_IsTrue(args[7]);
    if (reply < 0)
        return NULL;
    unsigned char *p;
    Py_ssize_t n;
    uint64_t sum;
    uint32_t type = reply ? 0u : 8u; /* echo reply, echo request */
    PyObject *frame = ipv4_frame_with_payload(&e, "icmp_echo", 1, ttl, ip_id, args[10], args[6], &p, &n, &sum);
    if (frame != NULL) {
        p[0] = (unsigned char)type;
        p[1] = 0; /* code */
        put_be16(p + 2, ones_complement((uint64_t)(type << 8) + ident + seq + sum));
        put_be16(p + 4, (uint32_t)ident);
        put_be16(p + 6, (uint32_t)seq);
    }
    return frame;
}

/* ------------------------------------------------------------------ round-trip times */

static PyObject *str_gauss_next, *str_random; /* interned attribute names */

/* One ``rng.random()``, as a double (-1.0 and an error set on failure). */
static double next_random(PyObject *rng)
{
    PyObject *r = PyObject_CallMethodNoArgs(rng, str_random);
    if (r == NULL)
        return -1.0;
    double v = PyFloat_AsDouble(r);
    Py_DECREF(r);
    return v;
}

/* rtt_us(rng, mean_ms, jitter_ms, floor_us) -> int: max(floor_us, int(rng.gauss(mean_ms, jitter_ms) * 1000)),
 * the draws exactly random.Random.gauss's (two rng.random() calls every other time, the second value kept
 * in rng.gauss_next), with the same libm functions. A run draws ~450,000 round-trip times; gauss's
 * Python took ~1 us of each. */
static PyObject *rtt_us(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (arity("rtt_us", nargs, 4) < 0)
        return NULL;
    PyObject *rng = args[0];
    double mu = PyFloat_AsDouble(args[1]);
    if (mu == -1.0 && PyErr_Occurred())
        return NULL;
    double sigma = PyFloat_AsDouble(args[2]);
    if (sigma == -1.0 && PyErr_Occurred())
        return NULL;
    PyObject *cached = PyObject_GetAttr(rng, str_gauss_next);
    if (cached == NULL)
        return NULL;
    double z;
    int ok;
    if (cached == Py_None) {
        Py_DECREF(cached);
        double first = next_random(rng);
        if (first == -1.0 && PyErr_Occurred())
            return NULL;
        double second = next_random(rng);
        if (second == -1.0 && PyErr_Occurred())
            return NULL;
        double x2pi = first * 6.283185307179586, g2rad = sqrt(-2.0 * log(1.0 - second));
        z = cos(x2pi) * g2rad;
        PyObject *kept = PyFloat_FromDouble(sin(x2pi) * g2rad);
        ok = kept != NULL && PyObject_SetAttr(rng, str_gauss_next, kept) == 0;
        Py_XDECREF(kept);
    } else {
        z = PyFloat_AsDouble(cached);
        Py_DECREF(cached);
        ok = !(z == -1.0 && PyErr_Occurred()) && PyObject_SetAttr(rng, str_gauss_next, Py_None) == 0;
    }
    if (!ok)
        return NULL;
    PyObject *us = PyLong_FromDouble((mu + z * sigma) * 1000.0); /* int(): truncated, or the same error */
    if (us == NULL)
        return NULL;
    int below = PyObject_RichCompareBool(us, args[3], Py_LT); /* as max(floor_us, us) compares them */
    if (below < 0) {
        Py_DECREF(us);
        return NULL;
    }
    if (below) {
        Py_DECREF(us);
        return Py_NewRef(args[3]);
    }
    return us;
}

/* ------------------------------------------------------------------ TLS 1.3 sessions */

static inline uint32_t rotr32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static const uint32_t SHA256_K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* The 16 big-endian words of the one block a message of at most 55 bytes pads to, as SHA-1 and SHA-256
 * (FIPS 180-4) pad it: the message, a 1 bit, zeros, its length in bits. */
static void one_block_words(const unsigned char *msg, size_t len, uint32_t w[16])
{
    unsigned char block[64] = {0};
    memcpy(block, msg, len);
    block[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        block[63 - i] = (unsigned char)(bits >> (8 * i));
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)be32_at(block + 4 * i);
}

/* SHA-256 (FIPS 180-4) of a message of at most 55 bytes, which pads to one block: a hello's key share is
 * the digest of a 6-byte label and its 32-byte random (tls._key_share). */
static void sha256_one_block(const unsigned char *msg, size_t len, unsigned char digest[32])
{
    uint32_t w[64];
    one_block_words(msg, len, w);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr32(w[i - 15], 7) ^ rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr32(w[i - 2], 17) ^ rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    static const uint32_t H0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    uint32_t a = H0[0], b = H0[1], c = H0[2], d = H0[3], e = H0[4], f = H0[5], g = H0[6], h = H0[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i];
        uint32_t t2 = (rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    uint32_t out[8] = {a, b, c, d, e, f, g, h};
    for (int i = 0; i < 8; i++)
        put_be32(digest + 4 * i, H0[i] + out[i]);
}

#define TLS_RANDOM_AT 11     /* after the record header, the handshake header and legacy_version */
#define TLS_SESSION_ID_AT 44 /* after the random and the session id's length byte */
#define TLS_MAX_RECORD_BODY (16384 + 256)
#define TLS_FULL_RECORD_BODY (16384 + 17)
#define TLS_FINISHED_BODY 53 /* tls.FINISHED_BYTES: the client's encrypted Finished */

/* A hello from its ``template`` (zeros for the random, session id and key share): ``random`` and
 * ``session`` patched in, the key share sha256(``label`` + random) at ``share_at``; written to ``out``. */
static int put_hello(unsigned char *out, const Py_buffer *template, Py_ssize_t share_at, const char *label,
                     const Py_buffer *random, const Py_buffer *session, const char *who)
{
    const unsigned char *t = template->buf;
    if (random->len != 32 || session->len > 32 || template->len < TLS_SESSION_ID_AT + session->len ||
        t[TLS_SESSION_ID_AT - 1] != session->len || share_at < TLS_SESSION_ID_AT + session->len ||
        share_at > template->len - 32) {
        PyErr_Format(PyExc_ValueError, "tls_session_sends: the %s hello's template, random (32 bytes) or session "
                     "id (its length as in the template, at most 32) do not fit", who);
        return -1;
    }
    memcpy(out, t, (size_t)template->len);
    memcpy(out + TLS_RANDOM_AT, random->buf, 32);
    memcpy(out + TLS_SESSION_ID_AT, session->buf, (size_t)session->len);
    unsigned char message[38];
    memcpy(message, label, 6);
    memcpy(message + 6, random->buf, 32);
    sha256_one_block(message, sizeof message, out + share_at);
    return 0;
}

static const unsigned char TLS_CHANGE_CIPHER_SPEC[6] = {20, 3, 3, 0, 1, 1};

/* Where in ``block`` the opaque body of ``length`` bytes for ``seed`` begins (tls.body_start). */
static inline Py_ssize_t tls_body_start(Py_ssize_t block_length, Py_ssize_t length, uint64_t seed)
{
    return (Py_ssize_t)(seed * 0x9E3779B1ull % (uint64_t)(block_length - length + 1));
}

/* An application-data record's header for a body of ``length`` bytes. */
static void put_record_header(unsigned char *out, Py_ssize_t length)
{
    out[0] = 23;
    out[1] = 3;
    out[2] = 3;
    put_be16(out + 3, (uint32_t)length);
}

/* One application-data record (its 5-byte header, then ``length`` bytes of body) at ``out``. */
static void put_application_data(unsigned char *out, const Py_buffer *block, Py_ssize_t length, uint64_t seed)
{
    put_record_header(out, length);
    memcpy(out + 5, (const unsigned char *)block->buf + tls_body_start(block->len, length, seed), (size_t)length);
}

/* tls.tls_application_stream_parts(length, seed) as pieces: each record's header (bytes) and body (a slice
 * of ``block_view``, not copied). */
static PyObject *stream_pieces(PyObject *block_view, Py_ssize_t block_length, Py_ssize_t length, uint64_t seed)
{
    Py_ssize_t records = (length + TLS_FULL_RECORD_BODY - 1) / TLS_FULL_RECORD_BODY;
    PyObject *pieces = PyList_New(2 * records);
    if (pieces == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < records; k++) {
        Py_ssize_t offset = k * TLS_FULL_RECORD_BODY;
        Py_ssize_t body = length - offset < TLS_FULL_RECORD_BODY ? length - offset : TLS_FULL_RECORD_BODY;
        Py_ssize_t start = tls_body_start(block_length, body, seed + (uint64_t)k);
        unsigned char header[5];
        put_record_header(header, body);
        PyObject *head = PyBytes_FromStringAndSize((const char *)header, 5);
        PyObject *slice = head == NULL ? NULL : PySequence_GetSlice(block_view, start, start + body);
        if (slice == NULL) {
            Py_XDECREF(head);
            Py_DECREF(pieces);
            return NULL;
        }
        PyList_SET_ITEM(pieces, 2 * k, head);
        PyList_SET_ITEM(pieces, 2 * k + 1, slice);
    }
    return pieces;
}

/* An int argument as a Py_ssize_t (-1 and an error if it is none or too big). */
static int ssize_arg(PyObject *value, Py_ssize_t *out)
{
    *out = PyLong_AsSsize_t(value);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* tls_session_sends(client_template, client_share_at, server_template, server_share_at, block_view,
 *                   client_random, session_id, server_random, server_session_id, certificate_bytes,
 *                   certificate_seed, finished_seed, up_bytes, up_seed, down_bytes, down_seed,
 *                   server_delay_us, response_delay_us) -> sends
 * What testbed.packets.tls.tls_session_sends's reference composes from the tls module's functions: the
 * five sends of a TLS 1.3 session, as tcp_connection takes them. The templates are the hellos with zeros
 * for the random, session id and key share (cached by the tls module), ``block_view`` a memoryview of
 * tls.BLOCK. One call in place of a dozen: a streaming session spent ~20 us composing them in Python. */
static PyObject *tls_session_sends(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (arity("tls_session_sends", nargs, 18) < 0)
        return NULL;
    Py_buffer client = {0}, server = {0}, block = {0}, c_random = {0}, c_session = {0}, s_random = {0}, s_session = {0};
    PyObject *result = NULL, *hello = NULL, *flight = NULL, *finished = NULL, *up = NULL, *down = NULL;
    Py_ssize_t client_share_at, server_share_at, certificate, up_bytes, down_bytes, server_delay, response_delay;
    /* Seeds (certificate, finished, up, down) below 2**31: a stream's seed plus its records' index stays
     * below 2**32, and what tls_body_start multiplies it by is 32 bits, so the product fits 64. */
    unsigned long seeds[4];
    const int seed_at[4] = {10, 11, 13, 15};
    if (PyObject_GetBuffer(args[0], &client, PyBUF_SIMPLE) < 0 || PyObject_GetBuffer(args[2], &server, PyBUF_SIMPLE) < 0 ||
        PyObject_GetBuffer(args[4], &block, PyBUF_SIMPLE) < 0 || PyObject_GetBuffer(args[5], &c_random, PyBUF_SIMPLE) < 0 ||
        PyObject_GetBuffer(args[6], &c_session, PyBUF_SIMPLE) < 0 ||
        PyObject_GetBuffer(args[7], &s_random, PyBUF_SIMPLE) < 0 ||
        PyObject_GetBuffer(args[8], &s_session, PyBUF_SIMPLE) < 0 || ssize_arg(args[1], &client_share_at) < 0 ||
        ssize_arg(args[3], &server_share_at) < 0 || ssize_arg(args[9], &certificate) < 0 ||
        ssize_arg(args[12], &up_bytes) < 0 || ssize_arg(args[14], &down_bytes) < 0 ||
        ssize_arg(args[16], &server_delay) < 0 || ssize_arg(args[17], &response_delay) < 0)
        goto done;
    for (int i = 0; i < 4; i++)
        if (bounded(args[seed_at[i]], 0x7FFFFFFFul, "tls_session_sends", "a seed", &seeds[i]) < 0)
            goto done;
    if (certificate < 1 || certificate > TLS_MAX_RECORD_BODY || up_bytes < 1 || down_bytes < 1 ||
        block.len < TLS_MAX_RECORD_BODY) {
        PyErr_SetString(PyExc_ValueError, "tls_session_sends: a record body has 1..16640 bytes, a stream at least "
                                          "one, and the block must hold the largest body");
        goto done;
    }
    if (server_delay < 0 || response_delay < 0) {
        PyErr_SetString(PyExc_ValueError, "tls_session_sends: the delays are never negative");
        goto done;
    }
    hello = PyBytes_FromStringAndSize(NULL, client.len);
    flight = PyBytes_FromStringAndSize(NULL, server.len + 6 + 5 + certificate);
    finished = PyBytes_FromStringAndSize(NULL, 6 + 5 + TLS_FINISHED_BODY);
    if (hello == NULL || flight == NULL || finished == NULL ||
        put_hello((unsigned char *)PyBytes_AS_STRING(hello), &client, client_share_at, "client", &c_random,
                  &c_session, "client") < 0 ||
        put_hello((unsigned char *)PyBytes_AS_STRING(flight), &server, server_share_at, "server", &s_random,
                  &s_session, "server") < 0)
        goto done;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(flight) + server.len;
    memcpy(p, TLS_CHANGE_CIPHER_SPEC, 6);
    put_application_data(p + 6, &block, certificate, seeds[0]);
    p = (unsigned char *)PyBytes_AS_STRING(finished);
    memcpy(p, TLS_CHANGE_CIPHER_SPEC, 6);
    put_application_data(p + 6, &block, TLS_FINISHED_BODY, seeds[1]);
    up = stream_pieces(args[4], block.len, up_bytes, seeds[2]);
    down = up == NULL ? NULL : stream_pieces(args[4], block.len, down_bytes, seeds[3]);
    if (down == NULL)
        goto done;
    result = Py_BuildValue("[(OOi)(OOn)(OOi)(OOi)(OOn)]", Py_True, hello, 0, Py_False, flight, server_delay, Py_True,
                           finished, 0, Py_True, up, 0, Py_False, down, response_delay);
done:
    Py_XDECREF(hello);
    Py_XDECREF(flight);
    Py_XDECREF(finished);
    Py_XDECREF(up);
    Py_XDECREF(down);
    Py_buffer *buffers[7] = {&client, &server, &block, &c_random, &c_session, &s_random, &s_session};
    for (int i = 0; i < 7; i++)
        if (buffers[i]->obj != NULL)
            PyBuffer_Release(buffers[i]);
    return result;
}

/* ------------------------------------------------------------------ Community ID of TCP/UDP flows */

static inline uint32_t rotl32(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

/* SHA-1 (FIPS 180-4) of a message of at most 55 bytes, which pads to one block. Written out round by
 * round: the loop form with its branch per round took 350 ns here, this 106 ns. */
static void sha1_one_block(const unsigned char *msg, size_t len, unsigned char digest[20])
{
    uint32_t w[16];
    one_block_words(msg, len, w);
    uint32_t a = 0x67452301u, b = 0xEFCDAB89u, c = 0x98BADCFEu, d = 0x10325476u, e = 0xC3D2E1F0u, t;
    /* The message schedule kept as a ring of 16 words; round i uses word i. */
#define SHA1_W(i) ((i) < 16 ? w[(i)] : (w[(i) & 15] = rotl32(w[((i) + 13) & 15] ^ w[((i) + 8) & 15] ^ \
                                                             w[((i) + 2) & 15] ^ w[(i) & 15], 1)))
#define SHA1_ROUND(i, f, k) t = rotl32(a, 5) + (f) + e + (k) + SHA1_W(i); e = d; d = c; c = rotl32(b, 30); b = a; a = t;
#define SHA1_FIVE(i, f, k) SHA1_ROUND(i, f, k) SHA1_ROUND((i) + 1, f, k) SHA1_ROUND((i) + 2, f, k) \
                           SHA1_ROUND((i) + 3, f, k) SHA1_ROUND((i) + 4, f, k)
#define SHA1_CH ((b & c) | (~b & d))
#define SHA1_PARITY (b ^ c ^ d)
#define SHA1_MAJ ((b & c) | (b & d) | (c & d))
    SHA1_FIVE(0, SHA1_CH, 0x5A827999u) SHA1_FIVE(5, SHA1_CH, 0x5A827999u)
    SHA1_FIVE(10, SHA1_CH, 0x5A827999u) SHA1_FIVE(15, SHA1_CH, 0x5A827999u)
    SHA1_FIVE(20, SHA1_PARITY, 0x6ED9EBA1u) SHA1_FIVE(25, SHA1_PARITY, 0x6ED9EBA1u)
    SHA1_FIVE(30, SHA1_PARITY, 0x6ED9EBA1u) SHA1_FIVE(35, SHA1_PARITY, 0x6ED9EBA1u)
    SHA1_FIVE(40, SHA1_MAJ, 0x8F1BBCDCu) SHA1_FIVE(45, SHA1_MAJ, 0x8F1BBCDCu)
    SHA1_FIVE(50, SHA1_MAJ, 0x8F1BBCDCu) SHA1_FIVE(55, SHA1_MAJ, 0x8F1BBCDCu)
    SHA1_FIVE(60, SHA1_PARITY, 0xCA62C1D6u) SHA1_FIVE(65, SHA1_PARITY, 0xCA62C1D6u)
    SHA1_FIVE(70, SHA1_PARITY, 0xCA62C1D6u) SHA1_FIVE(75, SHA1_PARITY, 0xCA62C1D6u)
#undef SHA1_W
#undef SHA1_ROUND
#undef SHA1_FIVE
#undef SHA1_CH
#undef SHA1_PARITY
#undef SHA1_MAJ
    uint32_t h[5] = {0x67452301u + a, 0xEFCDAB89u + b, 0x98BADCFEu + c, 0x10325476u + d, 0xC3D2E1F0u + e};
    for (int i = 0; i < 5; i++)
        put_be32(digest + 4 * i, h[i]);
}

/* An IPv4 address in dotted form, read by inet_aton, as socket.inet_aton reads it (the pure path). */
static int ipv4_address(PyObject *text, const char *what, unsigned char out[4])
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (s == NULL)
        return -1;
    if ((size_t)n != strlen(s)) {
        PyErr_Format(PyExc_ValueError, "community_id: the %s address holds a NUL character", what);
        return -1;
    }
    struct in_addr a;
    if (!inet_aton(s, &a)) {
        PyErr_Format(PyExc_OSError, "community_id: %R is not an IPv4 address", text);
        return -1;
    }
    memcpy(out, &a.s_addr, 4); /* network order already */
    return 0;
}

/* community_id(proto, src, sport, dst, dport, seed) -> str: what testbed.community_id's pure path
 * (its reference) gives for a TCP or UDP flow over IPv4. The spec (community-id-spec, v1): sha1 over
 * the seed, the endpoints ordered so both directions agree, the protocol, a pad byte and the ports,
 * then "1:" and base64. ~1 us of bytecode and a hashlib object per flow, ~0.3 us here. */
static PyObject *community_id(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (arity("community_id", nargs, 6) < 0)
        return NULL;
    unsigned long proto, sport, dport, seed;
    unsigned char a[4], b[4];
    if (bounded(args[0], 0xFF, "community_id", "the protocol", &proto) < 0 ||
        ipv4_address(args[1], "source", a) < 0 ||
        bounded(args[2], 0xFFFF, "community_id", "the source port", &sport) < 0 ||
        ipv4_address(args[3], "destination", b) < 0 ||
        bounded(args[4], 0xFFFF, "community_id", "the destination port", &dport) < 0 ||
        bounded(args[5], 0xFFFF, "community_id", "the seed", &seed) < 0)
        return NULL;
    int order = memcmp(b, a, 4);
    const unsigned char *lo = a, *hi = b;
    if (order < 0 || (order == 0 && dport < sport)) {
        lo = b;
        hi = a;
        unsigned long p = sport;
        sport = dport;
        dport = p;
    }
    unsigned char msg[16];
    put_be16(msg, (uint32_t)seed);
    memcpy(msg + 2, lo, 4);
    memcpy(msg + 6, hi, 4);
    msg[10] = (unsigned char)proto;
    msg[11] = 0;
    put_be16(msg + 12, (uint32_t)sport);
    put_be16(msg + 14, (uint32_t)dport);
    unsigned char digest[21] = {0}; /* 20 bytes and a zero, base64's last group */
    sha1_one_block(msg, sizeof msg, digest);
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char text[30] = {'1', ':'};
    char *o = text + 2;
    for (int i = 0; i < 21; i += 3) {
        uint32_t v = (uint32_t)digest[i] << 16 | (uint32_t)digest[i + 1] << 8 | digest[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    text[29] = '='; /* 20 bytes: the last group holds two, so one pad character */
    return PyUnicode_FromStringAndSize(text, sizeof text);
}

static PyMethodDef methods[] = {
    {"merge_encoded", merge_encoded, METH_VARARGS,
     "merge_encoded(parts) -> (times, ends, blob): (times, ends, blob) parts merged by capture time, ties in part order."},
    {"take_merged", take_merged, METH_VARARGS,
     "take_merged(logs, until_us, final) -> (times, ends, blob): the FrameLogs' takes, merged by capture time."},
    {"take_merged_into", take_merged_into, METH_VARARGS,
     "take_merged_into(logs, until_us, final, sink) -> (frames, bytes): take_merged's blocks put into sink's buffers."},
    {"epb_encode", epb_encode, METH_VARARGS,
     "epb_encode(records, interface) -> (times, ends, blob): Enhanced Packet Blocks of (ts_us, frame, comment) records."},
    {"icmp_echo", (PyCFunction)(void (*)(void))icmp_echo, METH_FASTCALL,
     "icmp_echo(src_mac, dst_mac, src_ip, dst_ip, ident, seq, payload, reply, ttl, ip_id, df) -> bytes: ip.icmp_echo's frame."},
    {"udp_frame", (PyCFunction)(void (*)(void))udp_frame, METH_FASTCALL,
     "udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, ttl, ip_id, df) -> bytes: ip.udp_frame's frame."},
    {"community_id", (PyCFunction)(void (*)(void))community_id, METH_FASTCALL,
     "community_id(proto, src, sport, dst, dport, seed) -> str: Community ID v1 of a TCP/UDP flow over IPv4."},
    {"rtt_us", (PyCFunction)(void (*)(void))rtt_us, METH_FASTCALL,
     "rtt_us(rng, mean_ms, jitter_ms, floor_us) -> int: max(floor_us, int(rng.gauss(mean_ms, jitter_ms) * 1000))."},
    {"tls_session_sends", (PyCFunction)(void (*)(void))tls_session_sends, METH_FASTCALL,
     "tls_session_sends(...) -> sends: a TLS 1.3 session's five sends, as tls.tls_session_sends's reference composes them."},
    {"tcp_session", tcp_session, METH_VARARGS,
     "tcp_session(...) -> (frames, t_done): a TCP session's handshake, sends and close, as TcpSession makes them."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Compiled hot loops of the simulation: frames, flow ids, flow rows.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    if (PyType_Ready(&FrameLogType) < 0)
        return NULL;
    str_gauss_next = PyUnicode_InternFromString("gauss_next");
    str_random = PyUnicode_InternFromString("random");
    if (str_gauss_next == NULL || str_random == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "FrameLog", (PyObject *)&FrameLogType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
