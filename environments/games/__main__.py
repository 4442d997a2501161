"""``python -m agentgym.environments.games``: TextArena games registered here, and those left out with why."""

from agentgym.environments.games.ta_registry import available_games, env_id, unavailable_games


def main() -> None:
    """Print both lists."""
    games = available_games()
    print(f"Registered TextArena games ({len(games)}):")
    for game, entry in games.items():
        print(
            f"  {env_id(game):42s} players={entry['num_players']}  "
            f"random moves accepted={entry['accepted_move_share']:.0%}"
        )
    missing = unavailable_games()
    print(f"\nNot registered ({len(missing)}):")
    for game, reason in missing.items():
        print(f"  {game:28s} {reason}")


if __name__ == "__main__":
    main()
