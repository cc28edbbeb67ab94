"""Headless top-down frames of a battle (PIL): terrain, units by team and type, bars, attacks."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from relayrl.envs.smaclike.battle import Battle

TEAM_COLOURS = ((52, 120, 220), (215, 60, 50))  # team 0 blue, team 1 red
LETTERS = {
    "marine": "m", "marauder": "M", "medivac": "V", "stalker": "s", "zealot": "z", "colossus": "C",
    "zergling": "g", "baneling": "b", "hydralisk": "h", "spine_crawler": "S",
}  # fmt: skip


class Renderer:
    """Draws one env of a :class:`Battle` as uint8 [H, W, 3]; ``scale`` pixels per map unit."""

    def __init__(self, battle: Battle, scale: int = 16):
        self.b = battle
        self.scale = scale
        w, h = battle.map_w, battle.map_h
        self.size = (w * scale, h * scale)
        # terrain: walkable cells light, higher cliff levels lighter, walls dark
        height = battle.terrain.height
        shade = (150 + 200 * (height - height.min())).clip(0, 235)
        rgb = np.where(battle.pathing[..., None], np.stack([shade * 0.82, shade * 0.86, shade * 0.74], -1), 48.0)
        img = np.transpose(rgb, (1, 0, 2))[::-1].astype(np.uint8)  # rows = y from the top
        self.background = Image.fromarray(img).resize(self.size, Image.NEAREST)

    def _px(self, x: float, y: float) -> tuple[float, float]:
        return x * self.scale, (self.b.map_h - y) * self.scale

    def frame(self, env: int = 0) -> np.ndarray:
        b, s = self.b, self.scale
        im = self.background.copy()
        d = ImageDraw.Draw(im)
        pos, alive = b.pos[env], b.alive[env]
        for lines, colour in ((b.shot_target[env], (255, 230, 80)), (b.heal_target[env], (90, 255, 140))):
            for u in np.flatnonzero(lines >= 0):
                t = int(lines[u])
                d.line([self._px(*pos[u]), self._px(*pos[t])], fill=colour, width=2)
        names = b.roster.names
        for u in range(b.U):
            if not alive[u]:
                continue
            x, y = self._px(*pos[u])
            r = b.radius[u] * s
            col = TEAM_COLOURS[int(b.team[u])]
            outline = (255, 255, 255) if b.is_air[u] else (20, 20, 20)
            d.ellipse([x - r, y - r, x + r, y + r], fill=col, outline=outline, width=2 if b.is_air[u] else 1)
            letter = LETTERS.get(names[u].removesuffix("_rl"), "?")
            d.text((x - 3, y - 6), letter, fill=(255, 255, 255))
            bar_w = max(2 * r, 10)
            top = y - r - 7
            frac = b.hp[env, u] / b.hp_max[u]
            d.rectangle([x - bar_w / 2, top, x + bar_w / 2, top + 2], fill=(60, 0, 0))
            d.rectangle([x - bar_w / 2, top, x - bar_w / 2 + bar_w * frac, top + 2], fill=(40, 220, 40))
            if b.shield_max[u] > 0:
                sf = b.shield[env, u] / b.shield_max[u]
                d.rectangle([x - bar_w / 2, top - 3, x - bar_w / 2 + bar_w * sf, top - 1], fill=(80, 200, 255))
        d.text((4, 4), f"{b.spec.name}  step {int(b.step_count[env])}", fill=(255, 255, 255))
        return np.asarray(im, dtype=np.uint8)
