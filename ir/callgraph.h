/* callgraph.h - the function reference graph (calls, return calls, ref.func) with its
 * roots (exports, start, element segments, global initialisers), and dominators. */
#ifndef WS_CALLGRAPH_H
#define WS_CALLGRAPH_H

#include "module.h"

typedef struct CallGraph {
    uint32_t nfuncs;
    uint32_t *first;    /* edges of f: edges[first[f] .. first[f + 1]) */
    uint32_t *edges;    /* referenced function indices, without duplicates per function */
    uint32_t nroots;
    uint32_t *roots;    /* functions referenced from outside any function, no duplicates */
} CallGraph;

/* Builds the graph by decoding every body's instructions.  Returns false with *err set
 * if a body is malformed. */
bool callgraph_build(const Module *m, CallGraph *g, WsError *err);
void callgraph_free(CallGraph *g);

/* Immediate dominators over the graph with a virtual root (index nfuncs) whose
 * successors are the roots.  idom[f] is f's immediate dominator (nfuncs = the root),
 * UINT32_MAX when f is unreachable.  order receives the reachable nodes in reverse
 * postorder (root first); returns their count. */
uint32_t callgraph_dominators(const CallGraph *g, uint32_t *idom, uint32_t *order);

#endif
