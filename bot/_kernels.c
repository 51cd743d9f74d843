/* The hot loops of one message's decision, in C: the sentence embedding's sum of float16
 * token rows (bot/embedding.py); the words view's n-gram columns and weighted row sums, the
 * embedding's projection and the stacker's products (bot/model.py); the neighbours search
 * (bot/neighbours.py).
 *
 * Why C: in numpy each was several calls on small arrays (a fixed cost of 1-2 us a call,
 * more than the arithmetic), float16 rows have no vectorised path there, and the one BLAS
 * call per message left OpenBLAS's worker thread spinning beside the bot. Together they took
 * the realistic-post median from 342 to ~230 us (README, "Speed and memory"). numpy stays the
 * reference: tests/learned/test_kernels.py checks each function against it, and training
 * computes a batch's neighbours with neighbours.similarities().
 *
 * No numpy headers: arrays arrive through the buffer protocol, so building this needs only
 * a C compiler and Python's own headers. Every function holds the GIL throughout (one scratch
 * buffer serves all callers).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_CANDIDATES 256
#define MAX_TOP 16
#define MAX_LABELS 64

/* A C-contiguous array of `ndim` dimensions whose items have the struct format `fmt`
 * ("f": float32, "e": float16), writable if asked, or an exception that names the argument. */
static int
get_buffer(PyObject *obj, Py_buffer *view, int ndim, const char *fmt, const char *name, int writable)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->ndim != ndim || view->format == NULL || strcmp(view->format, fmt) != 0) {
        PyErr_Format(PyExc_TypeError, "%s: expected a C-contiguous %s array of %d dimension(s)", name,
                     fmt[0] == 'e' ? "float16" : "float32", ndim);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int
get_array(PyObject *obj, Py_buffer *view, int ndim, const char *fmt, const char *name)
{
    return get_buffer(obj, view, ndim, fmt, name, 0);
}

static int
get_floats(PyObject *obj, Py_buffer *view, int ndim, const char *name)
{
    return get_buffer(obj, view, ndim, "f", name, 0);
}

/* The float32 vector a function writes its result into. */
static int
get_out(PyObject *obj, Py_buffer *view)
{
    return get_buffer(obj, view, 1, "f", "out", 1);
}

/* Python lists from C arrays (NULL with an exception set if one cannot be made). */
static PyObject *
list_of_doubles(const double *v, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
        PyObject *x = PyFloat_FromDouble(v[i]);
        if (x == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, x);
    }
    return list;
}

static PyObject *
list_of_sizes(const Py_ssize_t *v, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
        PyObject *x = PyLong_FromSsize_t(v[i]);
        if (x == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, x);
    }
    return list;
}

/* Whether the processor converts half floats itself (F16C, with AVX); set at import. */
static int have_f16c = 0;

/* IEEE half -> float, for processors without a conversion instruction. */
static inline float
half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000 | (mant << 13); /* inf, nan */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else { /* subnormal: normalise it */
        exp = 113;
        while (!(mant & 0x400)) {
            mant <<= 1;
            exp--;
        }
        bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* out += the table's rows `ids`, half floats widened to float and added row after row
 * (numpy's order, so the sums are the same to the bit). */
static void
sum_half_rows_plain(float *out, const uint16_t *table, Py_ssize_t width, const Py_ssize_t *ids, Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++) {
        const uint16_t *row = table + ids[i] * width;
        for (Py_ssize_t j = 0; j < width; j++)
            out[j] += half_to_float(row[j]);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_F16C_PATH 1
/* The same with F16C: eight columns at a time, kept in a register over all the rows. */
__attribute__((target("avx,f16c"))) static void
sum_half_rows_f16c(float *out, const uint16_t *table, Py_ssize_t width, const Py_ssize_t *ids, Py_ssize_t count)
{
    Py_ssize_t j = 0;
    for (; j + 8 <= width; j += 8) {
        __m256 acc = _mm256_loadu_ps(out + j);
        for (Py_ssize_t i = 0; i < count; i++)
            acc = _mm256_add_ps(acc, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(table + ids[i] * width + j))));
        _mm256_storeu_ps(out + j, acc);
    }
    for (; j < width; j++)
        for (Py_ssize_t i = 0; i < count; i++)
            out[j] += half_to_float(table[ids[i] * width + j]);
}

/* a . b for a row of half floats, in 32 lanes (four registers of eight, so the additions
 * do not wait on each other), reduced in a fixed order that dot_half_plain repeats. */
__attribute__((target("avx,f16c"))) static float
dot_half_f16c(const uint16_t *a, const float *b, Py_ssize_t n)
{
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    Py_ssize_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int r = 0; r < 4; r++)
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8 * r))),
                                                         _mm256_loadu_ps(b + i + 8 * r)));
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    float s[8];
    _mm256_storeu_ps(s, sum);
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++)
        total += half_to_float(a[i]) * b[i];
    return total;
}
#endif

/* The same sum without the instructions: 32 lanes, the same reduction, the same float. */
static float
dot_half_plain(const uint16_t *a, const float *b, Py_ssize_t n)
{
    float lane[32] = {0};
    Py_ssize_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 32; j++)
            lane[j] += half_to_float(a[i + j]) * b[i + j];
    float s[8];
    for (int j = 0; j < 8; j++)
        s[j] = (lane[j] + lane[8 + j]) + (lane[16 + j] + lane[24 + j]);
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++)
        total += half_to_float(a[i]) * b[i];
    return total;
}

static float
dot_half(const uint16_t *a, const float *b, Py_ssize_t n, int plain)
{
#ifdef HAVE_F16C_PATH
    if (have_f16c && !plain)
        return dot_half_f16c(a, b, n);
#endif
    return dot_half_plain(a, b, n);
}

static void
sum_half_rows(float *out, const uint16_t *table, Py_ssize_t width, const Py_ssize_t *ids, Py_ssize_t count, int plain)
{
#ifdef HAVE_F16C_PATH
    if (have_f16c && !plain) {
        sum_half_rows_f16c(out, table, width, ids, count);
        return;
    }
#endif
    sum_half_rows_plain(out, table, width, ids, count);
}

/* The selection kernels below are compiled twice, for AVX2 and for any x86-64 (elsewhere,
 * once, for the platform's default); the loader picks the one the processor runs. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define KERNEL
#endif

/* score[r] = q . scan[:, start + r], scan (d, n) half floats stored axis-major: eight rows
 * at a time gather all d axes in registers before one store (an axis-by-axis pass re-read and
 * re-wrote the scores d times). Plain C; the F16C version below sums in the same order. */
static void
scan_rows_plain(float *score, const float *q, const uint16_t *sc, Py_ssize_t d, Py_ssize_t n, Py_ssize_t start,
                Py_ssize_t count)
{
    for (Py_ssize_t r = 0; r < count; r++) {
        float acc = 0;
        for (Py_ssize_t a = 0; a < d; a++)
            acc += q[a] * half_to_float(sc[a * n + start + r]);
        score[r] = acc;
    }
}

#ifdef HAVE_F16C_PATH
__attribute__((target("avx,f16c"))) static void
scan_rows_f16c(float *score, const float *q, const uint16_t *sc, Py_ssize_t d, Py_ssize_t n, Py_ssize_t start,
               Py_ssize_t count)
{
    Py_ssize_t r = 0;
    for (; r + 8 <= count; r += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (Py_ssize_t a = 0; a < d; a++)
            acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(q[a]),
                                                   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sc + a * n + start + r)))));
        _mm256_storeu_ps(score + r, acc);
    }
    scan_rows_plain(score + r, q, sc, d, n, start + r, count - r);
}
#endif

static void
scan_rows(float *score, const float *q, const uint16_t *sc, Py_ssize_t d, Py_ssize_t n, Py_ssize_t start,
          Py_ssize_t count, int plain)
{
#ifdef HAVE_F16C_PATH
    if (have_f16c && !plain) {
        scan_rows_f16c(score, q, sc, d, n, start, count);
        return;
    }
#endif
    scan_rows_plain(score, q, sc, d, n, start, count);
}

KERNEL static Py_ssize_t
count_at_least(const float *restrict v, Py_ssize_t n, float t)
{
    int32_t c = 0; /* 32-bit lanes: eight comparisons per instruction */
    for (Py_ssize_t i = 0; i < n; i++)
        c += v[i] >= t;
    return c;
}

/* The smallest and largest of v[0..n), n >= 1, in eight lanes: one running minimum
 * waits on the previous comparison at every element (~9 us a search). */
KERNEL static void
min_max(const float *restrict v, Py_ssize_t n, float *lo, float *hi)
{
    float l[8], h[8];
    for (int j = 0; j < 8; j++)
        l[j] = h[j] = v[0];
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            l[j] = v[i + j] < l[j] ? v[i + j] : l[j];
            h[j] = v[i + j] > h[j] ? v[i + j] : h[j];
        }
    for (; i < n; i++) {
        l[0] = v[i] < l[0] ? v[i] : l[0];
        h[0] = v[i] > h[0] ? v[i] : h[0];
    }
    for (int j = 1; j < 8; j++) {
        l[0] = l[j] < l[0] ? l[j] : l[0];
        h[0] = h[j] > h[0] ? h[j] : h[0];
    }
    *lo = l[0];
    *hi = h[0];
}

/* Appends to out[m..k) the rows whose score is >= t, in order; returns the new m. Eight
 * scores are tested at once and a block without one is skipped: ~k of ~1,700 pass. */
KERNEL static Py_ssize_t
collect_at_least(const float *restrict v, Py_ssize_t n, float t, Py_ssize_t k, Py_ssize_t first_row,
                 Py_ssize_t *restrict out, Py_ssize_t m)
{
    Py_ssize_t i = 0;
    for (; i + 8 <= n && m < k; i += 8) {
        int any = 0;
        for (int j = 0; j < 8; j++)
            any |= v[i + j] >= t;
        if (any)
            for (int j = 0; j < 8 && m < k; j++)
                if (v[i + j] >= t)
                    out[m++] = first_row + i + j;
    }
    for (; i < n && m < k; i++)
        if (v[i] >= t)
            out[m++] = first_row + i;
    return m;
}

/* The rows of the k highest scores (ties: the lower rows), into out; returns how many.
 * By bisection on the score: each step counts the scores at or above a threshold, a loop
 * with no branch to mispredict (~10 steps of ~0.1 us a label). Keeping a heap of the best,
 * or partitioning, branched on every comparison: ~20 us a message. */
static Py_ssize_t
top_rows(const float *score, Py_ssize_t count, Py_ssize_t k, Py_ssize_t first_row, Py_ssize_t *out)
{
    Py_ssize_t m = 0;
    if (count <= k) {
        for (Py_ssize_t i = 0; i < count; i++)
            out[m++] = first_row + i;
        return m;
    }
    float lo, hi;
    min_max(score, count, &lo, &hi);
    /* Invariant: at least k scores >= lo, fewer than k >= hi (unless they all tie at hi). */
    float take = hi;
    if (count_at_least(score, count, hi) < k) {
        for (;;) {
            const float mid = lo + (hi - lo) * 0.5f;
            if (!(mid > lo && mid < hi))
                break; /* lo and hi are neighbouring floats */
            const Py_ssize_t c = count_at_least(score, count, mid);
            if (c == k) {
                lo = hi = mid;
                break;
            }
            if (c > k)
                lo = mid;
            else
                hi = mid;
        }
        take = hi;
    }
    m = collect_at_least(score, count, take, k, first_row, out, 0); /* the scores above the boundary */
    for (Py_ssize_t i = 0; i < count && m < k; i++) /* then ties at it, lower rows first */
        if (score[i] >= lo && score[i] < take)
            out[m++] = first_row + i;
    return m;
}

PyDoc_STRVAR(sum_rows_doc,
"sum_rows(out, table, ids, plain=False)\n\n"
"Adds the rows `ids` of `table` (R, D) float16 into `out` (D,) float32, in place.\n"
"`plain`: without the processor's half-float instructions (for tests of that path).");

static PyObject *
sum_rows(PyObject *self, PyObject *args)
{
    PyObject *out_o, *table_o, *ids_o;
    int plain = 0;
    if (!PyArg_ParseTuple(args, "OOO|p", &out_o, &table_o, &ids_o, &plain))
        return NULL;
    Py_buffer out, table;
    if (get_out(out_o, &out) < 0)
        return NULL;
    PyObject *result = NULL, *ids = NULL;
    Py_ssize_t *rows = NULL;
    if (get_array(table_o, &table, 2, "e", "table") < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    if (table.shape[1] != out.shape[0]) {
        PyErr_SetString(PyExc_TypeError, "sum_rows: expected out (D,) float32 and table (R, D) float16");
        goto done;
    }
    ids = PySequence_Fast(ids_o, "ids must be a sequence");
    if (ids == NULL)
        goto done;
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(ids);
    rows = PyMem_Malloc((count > 0 ? count : 1) * sizeof(Py_ssize_t));
    if (rows == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        rows[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(ids, i));
        if (rows[i] == -1 && PyErr_Occurred())
            goto done;
        if (rows[i] < 0 || rows[i] >= table.shape[0]) {
            PyErr_SetString(PyExc_IndexError, "sum_rows: a row id lies outside the table");
            goto done;
        }
    }
    sum_half_rows(out.buf, (const uint16_t *)table.buf, table.shape[1], rows, count, plain);
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(rows);
    Py_XDECREF(ids);
    PyBuffer_Release(&table);
    PyBuffer_Release(&out);
    return result;
}

/* out = vec @ table, rows of the table added one after another (vectorised along them). */
KERNEL static void
vec_mat(float *restrict out, const float *restrict vec, const float *restrict table, Py_ssize_t rows, Py_ssize_t cols)
{
    for (Py_ssize_t j = 0; j < cols; j++)
        out[j] = 0.0f;
    for (Py_ssize_t i = 0; i < rows; i++) {
        const float v = vec[i];
        const float *restrict row = table + i * cols;
        for (Py_ssize_t j = 0; j < cols; j++)
            out[j] += v * row[j];
    }
}

PyDoc_STRVAR(project_doc,
"project(out, vec, table)\n\n"
"out (C,) float32 = vec (D,) float32 @ table (D, C) float32, in place. numpy hands this\n"
"to BLAS, whose worker threads then spin beside the bot (~8 us a message on two cores).");

static PyObject *
project(PyObject *self, PyObject *args)
{
    PyObject *out_o, *vec_o, *table_o;
    if (!PyArg_ParseTuple(args, "OOO", &out_o, &vec_o, &table_o))
        return NULL;
    Py_buffer out, vec, table;
    if (get_out(out_o, &out) < 0)
        return NULL;
    PyObject *result = NULL;
    int got = 1;
    if (get_floats(vec_o, &vec, 1, "vec") < 0)
        goto done;
    got = 2;
    if (get_floats(table_o, &table, 2, "table") < 0)
        goto done;
    got = 3;
    if (out.shape[0] != table.shape[1] || vec.shape[0] != table.shape[0]) {
        PyErr_SetString(PyExc_ValueError, "project: expected out (C,), vec (D,) and table (D, C), all float32");
        goto done;
    }
    vec_mat(out.buf, vec.buf, table.buf, table.shape[0], table.shape[1]);
    result = Py_None;
    Py_INCREF(result);
done:
    if (got >= 3)
        PyBuffer_Release(&table);
    if (got >= 2)
        PyBuffer_Release(&vec);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(weighted_rows_doc,
"weighted_rows(table, rows, weights, width) -> list\n\n"
"sum_i weights[i] * table[rows[i], :width] for a (R, C) float32 or float64 table, as a\n"
"list of `width` floats (summed in double precision). With rows 0..n-1 it is the product\n"
"of a vector and a matrix: numpy's fixed cost per call is larger than that arithmetic.");

static PyObject *
weighted_rows(PyObject *self, PyObject *args)
{
    PyObject *table_o, *rows_o, *weights_o;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "OOOn", &table_o, &rows_o, &weights_o, &width))
        return NULL;
    Py_buffer table;
    if (PyObject_GetBuffer(table_o, &table, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    PyObject *rows = NULL, *weights = NULL, *result = NULL;
    double acc[64];
    const int wide = table.format != NULL && strcmp(table.format, "d") == 0;
    if (table.ndim != 2 || table.format == NULL || (!wide && strcmp(table.format, "f") != 0)) {
        PyErr_SetString(PyExc_TypeError, "table: expected a C-contiguous float32 or float64 array of 2 dimension(s)");
        goto done;
    }
    if (width < 0 || width > 64 || width > table.shape[1]) {
        PyErr_SetString(PyExc_ValueError, "weighted_rows: width must be 0..64 and within the table");
        goto done;
    }
    rows = PySequence_Fast(rows_o, "rows must be a sequence");
    weights = rows ? PySequence_Fast(weights_o, "weights must be a sequence") : NULL;
    if (weights == NULL)
        goto done;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(rows), cols = table.shape[1];
    if (PySequence_Fast_GET_SIZE(weights) != n) {
        PyErr_SetString(PyExc_ValueError, "weighted_rows: rows and weights differ in length");
        goto done;
    }
    for (Py_ssize_t j = 0; j < width; j++)
        acc[j] = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t r = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(rows, i));
        double w = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(weights, i));
        if (PyErr_Occurred())
            goto done;
        if (r < 0 || r >= table.shape[0]) {
            PyErr_SetString(PyExc_IndexError, "weighted_rows: a row lies outside the table");
            goto done;
        }
        if (wide) {
            const double *row = (const double *)table.buf + r * cols;
            for (Py_ssize_t j = 0; j < width; j++)
                acc[j] += w * row[j];
        } else {
            const float *row = (const float *)table.buf + r * cols;
            for (Py_ssize_t j = 0; j < width; j++)
                acc[j] += w * row[j];
        }
    }
    result = list_of_doubles(acc, width);
done:
    Py_XDECREF(rows);
    Py_XDECREF(weights);
    PyBuffer_Release(&table);
    return result;
}

/* Scratch space for one search's scores, kept between calls (callers hold the GIL, so one
 * buffer serves them all). */
static float *scratch_scores = NULL;
static Py_ssize_t scratch_size = 0;

static int
scratch_for(Py_ssize_t n)
{
    if (n <= scratch_size)
        return 1;
    float *scores = PyMem_Realloc(scratch_scores, n * sizeof(float));
    if (scores == NULL) {
        PyErr_NoMemory();
        return 0;
    }
    scratch_scores = scores;
    scratch_size = n;
    return 1;
}

PyDoc_STRVAR(columns_doc,
"columns(vocab, grams) -> (cols, firsts, counts)\n\n"
"The vocabulary columns of a message's n-grams, each once in the order first seen, with\n"
"the position of its first occurrence in `grams` and how often it occurs; n-grams not\n"
"in `vocab` (a dict of str -> int) are skipped. The loop the words view ran in Python.");

static PyObject *
columns(PyObject *self, PyObject *args)
{
    PyObject *vocab, *grams_o;
    if (!PyArg_ParseTuple(args, "O!O", &PyDict_Type, &vocab, &grams_o))
        return NULL;
    PyObject *grams = PySequence_Fast(grams_o, "grams must be a sequence");
    if (grams == NULL)
        return NULL;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(grams);
    /* An open-addressing table from column to its place in the output, twice the size. */
    Py_ssize_t size = 16;
    while (size < 2 * n)
        size *= 2;
    Py_ssize_t *keys = PyMem_Malloc(size * sizeof(Py_ssize_t)), *place = PyMem_Malloc(size * sizeof(Py_ssize_t));
    PyObject *cols = PyList_New(0), *firsts = PyList_New(0), *result = NULL;
    Py_ssize_t *counts = PyMem_Malloc((n > 0 ? n : 1) * sizeof(Py_ssize_t));
    if (keys == NULL || place == NULL || counts == NULL || cols == NULL || firsts == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < size; i++)
        keys[i] = -1;
    Py_ssize_t found = 0;
    for (Py_ssize_t pos = 0; pos < n; pos++) {
        PyObject *col_o = PyDict_GetItemWithError(vocab, PySequence_Fast_GET_ITEM(grams, pos));
        if (col_o == NULL) {
            if (PyErr_Occurred())
                goto done;
            continue;
        }
        const Py_ssize_t col = PyLong_AsSsize_t(col_o);
        if (col < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "columns: a vocabulary column is negative");
            goto done;
        }
        Py_ssize_t h = (Py_ssize_t)(((size_t)col * 2654435761u) & (size_t)(size - 1));
        while (keys[h] != -1 && keys[h] != col)
            h = (h + 1) & (size - 1);
        if (keys[h] == col) {
            counts[place[h]]++;
            continue;
        }
        keys[h] = col;
        place[h] = found;
        counts[found++] = 1;
        PyObject *pos_o = PyLong_FromSsize_t(pos);
        if (pos_o == NULL || PyList_Append(cols, col_o) < 0 || PyList_Append(firsts, pos_o) < 0) {
            Py_XDECREF(pos_o);
            goto done;
        }
        Py_DECREF(pos_o);
    }
    PyObject *counts_o = list_of_sizes(counts, found);
    if (counts_o == NULL)
        goto done;
    result = PyTuple_Pack(3, cols, firsts, counts_o);
    Py_DECREF(counts_o);
done:
    PyMem_Free(keys);
    PyMem_Free(place);
    PyMem_Free(counts);
    Py_XDECREF(cols);
    Py_XDECREF(firsts);
    Py_DECREF(grams);
    return result;
}

PyDoc_STRVAR(nearest_doc,
"nearest(embedding, projected, scan, vecs, starts, counts, candidates, top, plain=False)\n"
"    -> (sums, best)\n\n"
"Columns of `scan` (d, N) and rows of `vecs` (N, D), both float16, are grouped by label: label k owns\n"
"rows starts[k] .. starts[k] + counts[k]. Per label: the `candidates` rows with the\n"
"highest projected . scan, then among those the `top` highest vecs . embedding. Returns, per\n"
"label, the sum of those `top` similarities (a missing one counts -1) and the row of\n"
"the highest (-1 for a label without rows). `plain`: without the processor's half-float\n"
"instructions (for tests of that path).");

static PyObject *
nearest(PyObject *self, PyObject *args)
{
    PyObject *emb_o, *proj_o, *scan_o, *vecs_o, *starts_o, *counts_o;
    Py_ssize_t candidates, top;
    int plain = 0;
    if (!PyArg_ParseTuple(args, "OOOOOOnn|p", &emb_o, &proj_o, &scan_o, &vecs_o, &starts_o, &counts_o,
                          &candidates, &top, &plain))
        return NULL;
    if (candidates < 1 || candidates > MAX_CANDIDATES || top < 1 || top > MAX_TOP || top > candidates) {
        PyErr_SetString(PyExc_ValueError, "candidates must be 1..256 and top 1..16, top <= candidates");
        return NULL;
    }
    PyObject *starts = PySequence_Fast(starts_o, "starts must be a sequence");
    if (starts == NULL)
        return NULL;
    PyObject *counts = PySequence_Fast(counts_o, "counts must be a sequence");
    if (counts == NULL) {
        Py_DECREF(starts);
        return NULL;
    }
    Py_buffer emb, proj, scan, vecs;
    int got = 0;
    PyObject *sums = NULL, *best = NULL, *result = NULL;
    if (get_floats(emb_o, &emb, 1, "embedding") < 0)
        goto done;
    got = 1;
    if (get_floats(proj_o, &proj, 1, "projected") < 0)
        goto done;
    got = 2;
    if (get_array(scan_o, &scan, 2, "e", "scan") < 0)
        goto done;
    got = 3;
    if (get_array(vecs_o, &vecs, 2, "e", "vecs") < 0)
        goto done;
    got = 4;

    const Py_ssize_t d = scan.shape[0], n = scan.shape[1], dims = vecs.shape[1];
    if (vecs.shape[0] != n || proj.shape[0] != d || emb.shape[0] != dims) {
        PyErr_SetString(PyExc_ValueError, "nearest: array shapes do not agree");
        goto done;
    }
    const Py_ssize_t labels = PySequence_Fast_GET_SIZE(starts);
    if (PySequence_Fast_GET_SIZE(counts) != labels) {
        PyErr_SetString(PyExc_ValueError, "nearest: starts and counts differ in length");
        goto done;
    }
    const float *e = emb.buf, *q = proj.buf;
    const uint16_t *sc = scan.buf;
    const uint16_t *vs = vecs.buf;
    if (!scratch_for(n))
        goto done;
    float *buf = scratch_scores;
    if (labels > MAX_LABELS) {
        PyErr_SetString(PyExc_ValueError, "nearest: at most 64 labels");
        goto done;
    }
    double label_sums[MAX_LABELS];
    Py_ssize_t label_best[MAX_LABELS];

    for (Py_ssize_t k = 0; k < labels; k++) {
        Py_ssize_t start = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(starts, k));
        Py_ssize_t count = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(counts, k));
        if (PyErr_Occurred())
            goto done;
        if (start < 0 || count < 0 || start + count > n) {
            PyErr_SetString(PyExc_ValueError, "nearest: a label's rows lie outside the arrays");
            goto done;
        }
        float *score = buf + start;
        scan_rows(score, q, sc, d, n, start, count, plain);
        /* Candidates: the `candidates` best rows on the scan. */
        Py_ssize_t cand[MAX_CANDIDATES];
        const Py_ssize_t m = top_rows(score, count, candidates, start, cand);
        /* Among the candidates: the `top` highest full similarities, and the best row. */
        float topv[MAX_TOP];
        Py_ssize_t filled = 0, best_row = -1;
        float best_sim = 0;
        for (Py_ssize_t j = 0; j < m; j++) {
            float s = dot_half(vs + cand[j] * dims, e, dims, plain);
            if (best_row < 0 || s > best_sim || (s == best_sim && cand[j] < best_row)) {
                best_sim = s;
                best_row = cand[j];
            }
            Py_ssize_t at;
            if (filled < top)
                at = filled++;
            else if (s > topv[top - 1])
                at = top - 1;
            else
                continue;
            topv[at] = s;
            while (at > 0 && topv[at] > topv[at - 1]) { /* descending insertion */
                float t = topv[at];
                topv[at] = topv[at - 1];
                topv[at - 1] = t;
                at--;
            }
        }
        double total = 0;
        for (Py_ssize_t j = 0; j < filled; j++)
            total += topv[j];
        total -= (double)(top - filled); /* a missing neighbour counts -1 */
        label_sums[k] = total;
        label_best[k] = best_row;
    }
    sums = list_of_doubles(label_sums, labels);
    best = sums ? list_of_sizes(label_best, labels) : NULL;
    if (best != NULL)
        result = PyTuple_Pack(2, sums, best);

done:
    if (got >= 4)
        PyBuffer_Release(&vecs);
    if (got >= 3)
        PyBuffer_Release(&scan);
    if (got >= 2)
        PyBuffer_Release(&proj);
    if (got >= 1)
        PyBuffer_Release(&emb);
    Py_XDECREF(sums);
    Py_XDECREF(best);
    Py_DECREF(starts);
    Py_DECREF(counts);
    return result;
}

static PyMethodDef methods[] = {
    {"nearest", nearest, METH_VARARGS, nearest_doc},
    {"sum_rows", sum_rows, METH_VARARGS, sum_rows_doc},
    {"weighted_rows", weighted_rows, METH_VARARGS, weighted_rows_doc},
    {"project", project, METH_VARARGS, project_doc},
    {"columns", columns, METH_VARARGS, columns_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bot._kernels", "Hot loops of the decision (see bot/embedding.py, bot/neighbours.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__kernels(void)
{
#ifdef HAVE_F16C_PATH
    __builtin_cpu_init();
    have_f16c = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
#endif
    return PyModule_Create(&module);
}
