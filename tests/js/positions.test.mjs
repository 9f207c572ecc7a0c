// Unit tests of board/static/positions.js: what the label, the hover and the banner say of a step's
// place in training, and where a failing run's steps are marked.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  failureMarks, failureText, markFraction, positionText, positionsOf, stepLabel, stepPosition,
} from '../../src/lstm_experiments/board/static/positions.js';

// /positions of a run logged every 3 batches whose loss became inf in batch 12 of epoch 1.
const FAILING = {
  log_every_batches: 3, steps: [0, 3, 6, 9, 11, 12], epoch: [0, 1, 1, 1, 1, 1], batch: [0, 3, 6, 9, 11, 12],
  event: ['', '', '', '', 'last_finite', 'non_finite'], failure: { step: 12, epoch: 1, batch: 12, last_finite: 11, loss: 'inf' },
};
// By epoch (steps are epochs), three epochs of 7 batches.
const BY_EPOCH = { log_every_batches: null, steps: [0, 1, 2, 3], epoch: [0, 1, 2, 3], batch: [0, 7, 7, 7], event: ['', '', '', ''] };

test('a step by batch says its epoch and batch; by epoch, the epoch it ends; step 0 the initial weights', () => {
  const batches = positionsOf(FAILING);
  const epochs = positionsOf(BY_EPOCH);
  assert.equal(batches.byBatch, true);
  assert.equal(epochs.byBatch, false);
  assert.equal(stepPosition(batches, 6), 'epoch 1, batch 6');
  assert.equal(stepPosition(epochs, 3), 'after epoch 3');
  assert.equal(stepPosition(epochs, 0), 'initial weights');
  assert.equal(stepPosition(batches, 0), 'initial weights');
  assert.equal(stepPosition(batches, 7), null); // not logged
  assert.equal(stepPosition(null, 3), null);
});

test('a failing run\'s last finite and failing steps say so, by batch or by epoch', () => {
  const batches = positionsOf(FAILING);
  assert.equal(stepPosition(batches, 11), 'epoch 1, batch 11 · last finite weights');
  assert.equal(stepPosition(batches, 12), 'epoch 1, batch 12 · loss became inf');
  // By epoch the failure's steps are batches too; the loss unknown: NaN or inf.
  const epoch = { epoch: 1, batch: 9, event: 'non_finite' };
  assert.equal(positionText(epoch), 'epoch 1, batch 9 · loss became NaN or inf');
  assert.equal(positionText({ ...epoch, event: 'last_finite', batch: 8 }), 'epoch 1, batch 8 · last finite weights');
  assert.equal(positionText(null), null);
});

test('the label: "step k · position", each run\'s when they differ, today\'s label for runs without positions', () => {
  const steps = [0, 3, 6, 9, 11, 12];
  const a = positionsOf(FAILING);
  assert.equal(stepLabel(steps, 6, [{ title: 'a', positions: a }]), 'step 6 · epoch 1, batch 6');
  assert.equal(stepLabel(steps, 0, [{ title: 'a', positions: a }, { title: 'b', positions: a }]), 'step 0 · initial weights');
  const b = positionsOf(BY_EPOCH);
  assert.equal(stepLabel([0, 1, 2, 3, 6], 3, [{ title: 'a', positions: a }, { title: 'b', positions: b }]),
    'step 3 · a: epoch 1, batch 3; b: after epoch 3');
  assert.equal(stepLabel(steps, 6, [{ title: 'a', positions: undefined }]), 'step 6'); // loading
  assert.equal(stepLabel([0, 1, 2], 1, [{ title: 'old', positions: null }]), '1 / 2 · after epoch 1');
  assert.equal(stepLabel([0, 1, 2], 1, [{ title: 'old', positions: null }, { title: 'b', positions: b }]), 'step 1 · after epoch 1');
  assert.equal(stepLabel([], null, []), 'no steps yet');
});

test('the slider marks each ticked run\'s last finite and failing steps, along its length', () => {
  const runs = [
    { run: 'a', failure: { step: 12, epoch: 1, batch: 12, last_finite: 11 } },
    { run: 'b', failure: null },
    { run: 'c', failure: { step: 2, epoch: 1, batch: 9, last_finite: null } },
  ];
  assert.deepEqual(failureMarks(runs), [
    { run: 'c', step: 2, kind: 'non_finite' },
    { run: 'a', step: 11, kind: 'last_finite' },
    { run: 'a', step: 12, kind: 'non_finite' },
  ]);
  assert.equal(markFraction([0, 3, 12], 3), 0.25);
  assert.equal(markFraction([0, 3, 12], 12), 1);
  assert.equal(markFraction([5], 5), 0);
});

test('the banner line says the loss, the step, its epoch and batch, and where the last finite weights are', () => {
  const failure = { step: 12, epoch: 1, batch: 12, last_finite: 11 };
  assert.equal(failureText(failure, { loss: 'inf' }),
    'loss became inf at step 12 (epoch 1, batch 12); step 11 holds the last finite weights');
  assert.equal(failureText({ ...failure, last_finite: null }, { title: 'lr=20' }),
    'lr=20: loss became NaN or inf at step 12 (epoch 1, batch 12); no earlier step was kept');
});
