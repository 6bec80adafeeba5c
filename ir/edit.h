/* edit.h - the operations passes use to change function IR.  Each keeps links, parents,
 * def-use and local chains consistent; stack discipline (operands pushed just before
 * their user) is the caller's to keep. */
#ifndef WS_EDIT_H
#define WS_EDIT_H

#include "func.h"
#include <stdlib.h>

/* A detached node for instruction in with nres results (types[0] is result 0's type;
 * types may be NULL when nres is 0). */
NodeId ir_new_node(IrFunc *f, const Instr *in, uint32_t nres, const ValType *types);
/* A detached structured node (block, loop, if, try, try_table) with nres results
 * (types[0] is result 0's type; NULL when nres is 0) and narms empty arms whose heads
 * are copies of in. */
NodeId ir_new_structured(IrFunc *f, const Instr *in, uint32_t nres, const ValType *types, uint32_t narms);
/* A detached `drop` taking value v (v's user becomes the drop: release v from its old
 * user first). */
NodeId ir_new_drop(IrFunc *f, ValueRef v);
/* Sets node id's operands (releasing the old ones' users, recording the new ones'). */
void ir_set_args(IrFunc *f, NodeId id, const ValueRef *args, uint32_t n);
/* Links id into arm `arm` of parent (0 = the function body) after node `after` (0 = at
 * the arm's start); adds local.get/set/tee to their local's chain. */
void ir_insert_after(IrFunc *f, NodeId parent, uint32_t arm, NodeId after, NodeId id);
void ir_insert_before(IrFunc *f, NodeId before, NodeId id);
/* Takes id out of its sequence: its operands lose their user, it leaves local chains.
 * Its own results' users are the caller's concern. */
void ir_unlink(IrFunc *f, NodeId id);
/* Contract: ir_unlink of each of ids (none structured), the local chains filtered once
 * per local touched instead of searched once per node. */
void ir_unlink_batch(IrFunc *f, const NodeId *ids, uint32_t count);
/* ir_unlink, and for a structured node everything inside it too. */
void ir_remove(IrFunc *f, NodeId id);
/* The arm `arm` of parent (0 = the function body). */
IrArm *ir_parent_arm(IrFunc *f, NodeId parent, uint32_t arm);
/* Appends a new local of type t; the declarations are rebuilt when lowered. */
uint32_t ir_add_local(IrFunc *f, ValType t);
/* new + set_args + insert_after in one call. */
NodeId ir_append_simple(IrFunc *f, NodeId parent, uint32_t arm, NodeId after, const Instr *in,
                        const ValueRef *args, uint32_t nargs, uint32_t nres, ValType type);
/* Every node in the function's sequences in bytecode order (a structured node before
 * its arms' contents); out needs room for f->nnodes ids.  Returns the count. */
uint32_t ir_preorder(const IrFunc *f, NodeId *out);
/* Gives value old's user (operand slot, or arm end) to repl instead; old is left unused. */
void ir_replace_value(IrFunc *f, ValueRef old, ValueRef repl);
/* An Instr with only its opcode set (in line: the metering pass makes millions). */
static inline Instr ir_instr(OpId op) {
    Instr in;
    memset(&in, 0, sizeof in);
    in.op = op;
    return in;
}

#endif
