/* fib.c - metering bench kernel: naive recursive Fibonacci (a call per node, no loops). */
#include <stdio.h>

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    printf("fib(27)=%u\n", fib(27));
    return 0;
}
