#include "dispatch.hpp"

#include <cstdio>
#include <cstring>

namespace kama {

// Defined by the kernels' own files (scalar.cpp, avx2.cpp, avx512.cpp, neon.cpp).
extern const kernel_entry kernel_scalar, kernel_avx2, kernel_avx512, kernel_neon;

namespace {

// Serial first, then in ascending preference; best_kernel() takes the last usable one.
const kernel_entry* const table[] = {
    &kernel_scalar,
    &kernel_avx2,
    &kernel_avx512,
    &kernel_neon,
};
constexpr std::size_t table_size = sizeof(table) / sizeof(table[0]);

}  // namespace

std::size_t kernel_count() noexcept { return table_size; }

const kernel_entry& kernel_at(std::size_t index) noexcept { return *table[index]; }

rows_fn rows_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept {
    for (const kernel_entry* e : table) {
        if (e->fn == fn && e->rows) {
            *lanes = e->lanes;
            return e->rows;
        }
    }
    return nullptr;
}

sweep_fn sweep_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept {
    for (const kernel_entry* e : table) {
        if (e->fn == fn && e->sweep) {
            *lanes = e->lanes;
            return e->sweep;
        }
    }
    return nullptr;
}

bool kernel_usable(const kernel_entry& k, char* why, std::size_t size) noexcept {
    const char* missing = k.missing ? k.missing() : nullptr;
    const bool usable = !missing && k.fn;
    if (why && size) {  // no formatting on the way to a usable kernel (every call that names one)
        if (usable) {
            why[0] = '\0';
        } else if (!k.fn) {
            std::snprintf(why, size, "%s", missing ? missing : "it is not built into this version of kama");
        } else {
            std::snprintf(why, size, "this machine lacks %s", missing);
        }
    }
    return usable;
}

const kernel_entry* kernel_from_name(const char* name) noexcept {
    static const char batch[] = "_batch";  // VectorTA's names for its batch kernels
    for (const kernel_entry* e : table) {
        const std::size_t len = std::strlen(e->name);
        if (std::strncmp(e->name, name, len) != 0) continue;
        if (name[len] == '\0' || std::strcmp(name + len, batch) == 0) return e;
    }
    return nullptr;
}

const char* kernel_names_for_error() noexcept {
    // Built on first use, under the GIL (the callers raise a Python exception with it).
    static char text[512] = "";
    if (text[0]) return text;
    std::size_t used = std::snprintf(text, sizeof(text), "'auto'");
    static const char* const suffixes[] = {"", "_batch"};
    for (const char* suffix : suffixes) {
        for (const kernel_entry* e : table) {
            if (used < sizeof(text))
                used += std::snprintf(text + used, sizeof(text) - used, ", '%s%s'", e->name, suffix);
        }
    }
    return text;
}

const kernel_entry& best_kernel() noexcept {
    for (std::size_t i = table_size; i-- > 1;) {
        if (kernel_usable(*table[i])) return *table[i];
    }
    return *table[0];
}

}  // namespace kama
