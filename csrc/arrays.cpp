// Conversion of the data argument to the float64 arrays the kernels read.
#include <cmath>

#include "common.hpp"

namespace kama {

namespace {

// Whether obj is a numpy.ma.MaskedArray. An ndarray subclass only; numpy.ma is looked up among
// the modules already imported (an object of its class cannot exist before it is).
bool is_masked(PyObject* obj) {
    if (!PyArray_Check(obj) || PyArray_CheckExact(obj)) return false;
    PyObject* ma = PyDict_GetItemString(PyImport_GetModuleDict(), "numpy.ma");  // borrowed
    if (!ma) return false;
    py_ptr cls(PyObject_GetAttrString(ma, "MaskedArray"));
    if (!cls) {
        PyErr_Clear();
        return false;
    }
    const int is = PyObject_IsInstance(obj, cls.get());
    if (is < 0) PyErr_Clear();
    return is == 1;
}

// A masked array's values as float64 with NaN where masked (SPEC §3: missing values); nullptr
// with TypeError when they are not numbers.
PyObject* fill_masked(PyObject* data, const char* fname) {
    PyArray_Descr* descr = PyArray_DESCR(reinterpret_cast<PyArrayObject*>(data));
    const char kind = descr->kind;
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f' && kind != 'O') {  // as for an ndarray
        PyErr_Format(PyExc_TypeError, "%s: data must be real numbers, got an array of dtype %R", fname,
                     reinterpret_cast<PyObject*>(descr));
        return nullptr;
    }
    py_ptr f64(PyObject_CallMethod(data, "astype", "s", "float64"));
    if (!f64) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError)) return nullptr;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: data must be real numbers; a masked array's values could not be "
                     "converted to float", fname);
        return nullptr;
    }
    return PyObject_CallMethod(f64.get(), "filled", "d", std::nan(""));
}

}  // namespace

PyArrayObject* as_f64_series(PyObject* data, const char* fname, Py_ssize_t* axis, bool* two_d) {
    *two_d = false;
    PyObject* const given = data;  // for messages: a masked array is read through its filled copy
    py_ptr filled;
    if (is_masked(data)) {
        filled.reset(fill_masked(data, fname));
        if (!filled) return nullptr;
        data = filled.get();
    }
    if (PyArray_Check(data) && (*axis == -1 || *axis == 0)) {
        auto* a = reinterpret_cast<PyArrayObject*>(data);
        if (PyArray_NDIM(a) == 1 && PyArray_TYPE(a) == NPY_DOUBLE && PyArray_ISCARRAY_RO(a) &&
            PyArray_ISNOTSWAPPED(a)) {
            *axis = 0;
            Py_INCREF(data);
            return a;
        }
    }
    py_ptr any(PyArray_FromAny(data, nullptr, 0, 0, 0, nullptr));
    if (!any) return nullptr;
    auto* a = reinterpret_cast<PyArrayObject*>(any.get());
    const char kind = PyArray_DESCR(a)->kind;
    const bool numeric = kind == 'b' || kind == 'i' || kind == 'u' || kind == 'f';
    if (!numeric && kind != 'O') {
        PyErr_Format(PyExc_TypeError, "%s: data must be real numbers, got an array of dtype %R",
                     fname, reinterpret_cast<PyObject*>(PyArray_DESCR(a)));
        return nullptr;
    }
    const int nd = PyArray_NDIM(a);
    if (nd == 0) {
        py_ptr tn(type_name(given));
        PyErr_Format(PyExc_TypeError, "%s: data must be a 1-D sequence of numbers, not %V", fname,
                     tn.get(), "?");
        return nullptr;
    }
    if (nd > 2) {
        PyErr_Format(PyExc_ValueError, "%s: data must be 1-D or 2-D, got %d dimensions", fname, nd);
        return nullptr;
    }
    const Py_ssize_t ax = *axis < 0 ? *axis + nd : *axis;
    if (ax < 0 || ax >= nd) {
        PyErr_Format(PyExc_ValueError, "%s: axis %zd is out of bounds for array of dimension %d",
                     fname, *axis, nd);
        return nullptr;
    }
    *axis = ax;
    *two_d = nd == 2;
    if (nd == 2 && ax == 0) {  // series down the columns: make them rows
        any.reset(PyArray_Transpose(a, nullptr));
        if (!any) return nullptr;
        a = reinterpret_cast<PyArrayObject*>(any.get());
    }
    PyObject* vec = PyArray_FromArray(a, PyArray_DescrFromType(NPY_DOUBLE),
                                      NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST);
    if (!vec && kind == 'O' &&
        (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError))) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: data must be real numbers; an element could not be "
                     "converted to float", fname);
    }
    return reinterpret_cast<PyArrayObject*>(vec);
}

PyArrayObject* as_f64_vector(PyObject* data, const char* fname) {
    Py_ssize_t axis = -1;
    bool two_d;
    PyArrayObject* vec = as_f64_series(data, fname, &axis, &two_d);
    if (vec && two_d) {
        Py_DECREF(vec);
        PyErr_Format(PyExc_ValueError, "%s: data must be 1-D, got 2 dimensions", fname);
        return nullptr;
    }
    return vec;
}

}  // namespace kama
