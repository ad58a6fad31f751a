// The module kama._kama: multi-phase init and the small module-level functions.
#define KAMA_IMPORT_ARRAY
#include "common.hpp"
#include "dispatch.hpp"

namespace kama {
namespace {

PyObject* py_kernels(PyObject*, PyObject*) {
    py_ptr list(PyList_New(0));
    if (!list) return nullptr;
    for (int id = k_scalar; id < k_count; ++id) {
        if (!kernel_usable(static_cast<kernel_id>(id))) continue;
        py_ptr name(PyUnicode_FromString(kernel_info(static_cast<kernel_id>(id)).name));
        if (!name || PyList_Append(list.get(), name.get()) < 0) return nullptr;
    }
    return list.release();
}

PyObject* py_live_buffers(PyObject*, PyObject*) { return PyLong_FromSsize_t(live_buffers()); }

PyObject* py_finalizing(PyObject*, PyObject*) {
    if (!finalizing_flag) Py_RETURN_NONE;
    return PyBool_FromLong(interpreter_finalizing());
}

PyObject* cpu_features_dict() {
    const cpu_features_t& f = cpu_features();
    return Py_BuildValue("{sOsOsOsOsOsOsOsO}", "AVX2", f.avx2 ? Py_True : Py_False, "FMA",
                         f.fma ? Py_True : Py_False, "AVX512F", f.avx512f ? Py_True : Py_False,
                         "AVX512DQ", f.avx512dq ? Py_True : Py_False, "AVX512BW",
                         f.avx512bw ? Py_True : Py_False, "AVX512VL", f.avx512vl ? Py_True : Py_False,
                         "OS_AVX", f.os_avx ? Py_True : Py_False, "OS_AVX512",
                         f.os_avx512 ? Py_True : Py_False);
}

PyMethodDef module_methods[] = {
    {"kama", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_kama)),
     METH_FASTCALL | METH_KEYWORDS, kama_doc},
    {"kama_batch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_kama_batch)),
     METH_FASTCALL | METH_KEYWORDS, kama_batch_doc},
    {"kernels", py_kernels, METH_NOARGS,
     "kernels()\n--\n\nThe kernels usable on this CPU and OS, best last."},
    {"_live_buffers", py_live_buffers, METH_NOARGS,
     "_live_buffers()\n--\n\nResult buffers allocated by kama and not yet freed (for tests)."},
    {"_interpreter_finalizing", py_finalizing, METH_NOARGS,
     "_interpreter_finalizing()\n--\n\nCPython's finalizing flag as kama reads it; None where kama found no "
     "reader (for tests)."},
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* module) {
    if (_import_array() < 0) return -1;
    find_finalizing_flag();
    if (!set_default_kernel_from_env()) return -1;
    PyObject* type = make_stream_type(module);
    if (!type) return -1;
    if (PyModule_AddObject(module, "KamaStream", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    PyObject* features = cpu_features_dict();
    if (!features) return -1;
    if (PyModule_AddObject(module, "__cpu_features__", features) < 0) {
        Py_DECREF(features);
        return -1;
    }
    return 0;
}

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "kama._kama",
    "Native core of kama: KAMA kernels and their CPython bindings.",
    0,
    module_methods,
    module_slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace kama

PyMODINIT_FUNC PyInit__kama(void) { return PyModuleDef_Init(&kama::module_def); }
