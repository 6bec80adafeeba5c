/* loop.c - metering bench kernel: a tight loop (a few instructions per iteration). */
#include <stdio.h>

int main(void) {
    volatile unsigned seed = 12345;
    unsigned x = seed, acc = 0;
    for (unsigned i = 0; i < 20000000u; i++) {
        x = x * 1103515245u + 12345u;
        acc ^= x >> 7;
    }
    printf("acc=%u\n", acc);
    return 0;
}
